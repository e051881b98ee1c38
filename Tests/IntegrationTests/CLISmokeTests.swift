import Foundation
import NIOCore
import NIOPosix
import P2PCore
import Testing

@Suite("phantom-trail p2p subprocess smoke test", .tags(.integration), .serialized)
struct CLISmokeTests {
    @Test("p2p id, then p2p listen and p2p ping between two of our processes", .timeLimit(.minutes(1)))
    func listenAndPing() async throws {
        let binary = try IntegrationPaths.cliBinary()

        let id = try Subprocess(executable: binary, arguments: ["p2p", "id"])
        let idLine = try await id.nextLine(describedAs: "a peer_id line") { $0["peer_id"] != nil }
        _ = try PeerID(parsing: try #require(idLine["peer_id"] as? String))
        #expect(id.waitForExit() == 0)

        let listen = try Subprocess(executable: binary, arguments: ["p2p", "listen", "--json", "--duration", "40"])
        defer { listen.stop() }
        let listening = try await listen.next("listening")
        let listenerID = try #require(listening["peer_id"] as? String)
        let addresses = try #require(listening["addrs"] as? [any Sendable]).compactMap { $0 as? String }
        let address = try #require(addresses.first)
        #expect(address.hasPrefix("/ip4/127.0.0.1/tcp/") && address.hasSuffix("/p2p/\(listenerID)"))
        #expect(try Multiaddr(parsing: address).tcpSocketAddress?.port != 0)

        let ping = try Subprocess(executable: binary, arguments: ["p2p", "ping", address, "--count", "2", "--json"])
        let connected = try await ping.next("peer_connected")
        #expect(connected["peer_id"] as? String == listenerID)
        #expect(connected["direction"] as? String == "outbound")
        let identify = try await ping.next("identify")
        #expect(identify["peer_id"] as? String == listenerID)
        #expect(identify["agent_version"] as? String == "phantom-trail/0.1.0")
        let protocols = try #require(identify["protocols"] as? [any Sendable]).compactMap { $0 as? String }
        #expect(protocols.contains("/ipfs/ping/1.0.0") && protocols.contains("/ipfs/id/1.0.0"))
        for _ in 0..<2 {
            let line = try await ping.next("ping")
            #expect(line["peer_id"] as? String == listenerID)
            #expect((line["rtt_ms"] as? Double).map { $0 > 0 } == true)
        }
        #expect(ping.waitForExit() == 0)

        // The listener saw the connection, identified the pinger, and saw it leave.
        let inbound = try await listen.next("peer_connected")
        #expect(inbound["direction"] as? String == "inbound")
        let pinger = try #require(inbound["peer_id"] as? String)
        let theirIdentify = try await listen.next("identify") { $0["peer_id"] as? String == pinger }
        #expect(theirIdentify["agent_version"] as? String == "phantom-trail/0.1.0")
        _ = try await listen.next("peer_disconnected") { $0["peer_id"] as? String == pinger }

        // A wrong peer ID fails with a one-line reason and a non-zero status.
        let stranger = PeerID(publicKey: PrivateKey().publicKey)
        let wrongAddress = address.replacingOccurrences(of: listenerID, with: stranger.description)
        let wrong = try Subprocess(executable: binary, arguments: ["p2p", "ping", wrongAddress, "--json"])
        let failure = try await wrong.next("error")
        #expect((failure["message"] as? String)?.isEmpty == false)
        #expect(wrong.waitForExit() != 0)

        #expect(listen.stop() == 0)
    }

    @Test("p2p ping gives up with a one-line reason when the peer never answers", .timeLimit(.minutes(1)))
    func pingTimeout() async throws {
        let binary = try IntegrationPaths.cliBinary()
        // Accepts connections and never says a word.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(silent.localAddress?.port)
        let ping = try Subprocess(
            executable: binary,
            arguments: ["p2p", "ping", "/ip4/127.0.0.1/tcp/\(port)", "--timeout", "1", "--json"]
        )
        let failure = try await ping.next("error")
        #expect((failure["message"] as? String)?.contains("timed out") == true)
        #expect(ping.waitForExit() == 1)
        try await silent.close()
    }
}
