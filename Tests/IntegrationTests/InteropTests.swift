import Foundation
import NIOCore
import P2PCore
import P2PHost
import Testing

/// The echo protocol the interop peer and our hosts both speak.
let echoProtocol = "/phantom-trail/echo/1.0.0"

/// Registers an echo handler: reads until the peer half-closes, writes everything back, closes.
func addEchoHandler(to host: LibP2PHost) {
    host.setHandler(protocol: echoProtocol) { stream in
        let bytes = try await stream.readToEnd(maxBytes: 1 << 20)
        try await stream.write(bytes)
        try await stream.closeWrite()
        await stream.close()
    }
}

/// Opens `count` echo streams to `peer` at once and checks every byte that comes back.
func runEchoStreams(host: LibP2PHost, peer: PeerID, count: Int, size: Int) async throws -> Int {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        for index in 0..<count {
            group.addTask {
                let payload = randomBytes(size)
                let stream = try await host.newStream(to: peer, protocols: [echoProtocol])
                try await stream.write(ByteBuffer(bytes: payload))
                try await stream.closeWrite()
                let echo = try await stream.readToEnd(maxBytes: size * 2)
                await stream.close()
                if echo.getBytes(at: echo.readerIndex, length: echo.readableBytes) == payload {
                    return true
                }
                Issue.record("echo stream \(index) returned \(echo.readableBytes) bytes that differ from the payload")
                return false
            }
        }
        var matched = 0
        for try await ok in group where ok {
            matched += 1
        }
        return matched
    }
}

/// `count` random bytes (8 at a time: debug builds make one call per byte slow).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}

/// A host configuration on loopback whose timeouts a starved 2-core CI machine cannot hit by accident (30 s to
/// connect, to upgrade and to negotiate a stream, instead of 10 s).
func loadTolerantConfiguration(listening: Bool = true) throws -> HostConfiguration {
    HostConfiguration(
        listenAddresses: listening ? [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")] : [],
        dialTimeout: .seconds(30),
        handshakeTimeout: .seconds(30),
        streamNegotiationTimeout: .seconds(30)
    )
}

/// Runs `body`, then shuts `host` down, also when `body` throws.
@discardableResult
func withShutdown<T>(of host: LibP2PHost, _ body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        await host.shutdown()
        throw error
    }
    await host.shutdown()
    return result
}

/// The next host event that passes `filter`; ends with an error if the event stream ends first.
func nextEvent(
    _ iterator: inout AsyncStream<HostEvent>.AsyncIterator,
    where filter: (HostEvent) -> Bool
)
    async throws -> HostEvent
{
    // `AsyncStream` ends the iteration when the task is cancelled (the test's time limit), so this never hangs.
    while let event = await iterator.next() {
        if filter(event) {
            return event
        }
    }
    try Task.checkCancellation()
    throw IntegrationFailure(description: "the host's event stream ended before the expected event")
}

@Suite("Interop with py-libp2p 0.8.1", .tags(.integration), .serialized)
struct InteropTests {
    private func startPythonPeer(_ arguments: [String]) throws -> Subprocess {
        let python = try IntegrationPaths.interopPython()
        let script = try IntegrationPaths.interopScript()
        return try Subprocess(executable: python, arguments: [script.path] + arguments)
    }

    private func makeHost() throws -> LibP2PHost {
        let host = try LibP2PHost(identity: PrivateKey(), configuration: loadTolerantConfiguration())
        addEchoHandler(to: host)
        return host
    }

    @Test(
        "We dial py-libp2p: connect, identify both ways, ping with RTT, 50 echo streams, clean close",
        .timeLimit(.minutes(2))
    )
    func weDialPython() async throws {
        let python = try self.startPythonPeer(["--duration", "110"])
        defer { python.stop() }
        let listening = try await python.next("listening")
        let address = try Multiaddr(parsing: try #require((listening["addrs"] as? [any Sendable])?.first as? String))

        let host = try self.makeHost()
        try await host.start()
        try await withShutdown(of: host) { () async throws in
            try await self.weDialPython(python: python, address: address, host: host)
        }
    }

    private func weDialPython(python: Subprocess, address: Multiaddr, host: LibP2PHost) async throws {
        let pythonPeer = try #require(address.peerID)
        var events = host.events.makeAsyncIterator()
        let peer = try await host.dial(address)
        #expect(peer == pythonPeer)
        let connected = try await nextEvent(&events) {
            if case .peerConnected = $0 { return true }
            return false
        }
        #expect(connected == .peerConnected(peer: peer, direction: .outbound, address: address.removingPeerID()))

        // We identified them.
        let identified = try await nextEvent(&events) {
            if case .identified(let who, _, _, _) = $0 { return who == peer }
            return false
        }
        guard case .identified(_, let agent, let protocols, let listenAddresses) = identified else { return }
        #expect(agent == "py-libp2p/0.8.1")
        #expect(protocols.contains(echoProtocol) && protocols.contains("/ipfs/ping/1.0.0"))
        #expect(listenAddresses.contains(address.removingPeerID()))

        // They identified us.
        let theirIdentify = try await python.next("identify")
        #expect(theirIdentify["peer_id"] as? String == host.peerID.description)
        #expect(theirIdentify["agent_version"] as? String == "phantom-trail/0.1.0")
        #expect(theirIdentify["protocol_version"] as? String == "ipfs/0.1.0")
        #expect(theirIdentify["public_key_matches"] as? Double == 1)
        let theirView = try #require(theirIdentify["protocols"] as? [any Sendable]).compactMap { $0 as? String }
        #expect(theirView == host.protocols)
        #expect(theirView.contains("/ipfs/ping/1.0.0") && theirView.contains(echoProtocol))

        let rtts = try await host.ping(peer, count: 3)
        #expect(rtts.count == 3)
        #expect(rtts.allSatisfy { $0 > .zero && $0 < .seconds(30) })

        let matched = try await runEchoStreams(host: host, peer: peer, count: 50, size: 16 * 1024)
        #expect(matched == 50)

        await host.shutdown()
        let disconnected = try await python.next("disconnected")
        #expect(disconnected["peer_id"] as? String == host.peerID.description)
        #expect(host.connectedPeers.isEmpty)
    }

    @Test(
        "py-libp2p dials us: connect, identify both ways, ping, 50 echo streams, clean close",
        .timeLimit(.minutes(2))
    )
    func pythonDialsUs() async throws {
        let host = try self.makeHost()
        try await host.start()
        try await withShutdown(of: host) { () async throws in
            try await self.pythonDialsUs(host: host)
        }
    }

    private func pythonDialsUs(host: LibP2PHost) async throws {
        var events = host.events.makeAsyncIterator()
        let address = try #require(host.listenAddresses.first)
        let python = try self.startPythonPeer([
            "--dial", address.description, "--ping-count", "3", "--echo-streams", "50", "--echo-bytes", "16384",
            "--duration", "110",
        ])
        defer { python.stop() }
        let listening = try await python.next("listening")
        let pythonPeer = try PeerID(parsing: try #require(listening["peer_id"] as? String))

        let connected = try await nextEvent(&events) {
            if case .peerConnected = $0 { return true }
            return false
        }
        guard case .peerConnected(let peer, let direction, _) = connected else { return }
        #expect(peer == pythonPeer)
        #expect(direction == .inbound)

        let theirIdentify = try await python.next("identify")
        #expect(theirIdentify["agent_version"] as? String == "phantom-trail/0.1.0")
        let theirView = try #require(theirIdentify["protocols"] as? [any Sendable]).compactMap { $0 as? String }
        #expect(theirView.contains("/ipfs/id/1.0.0") && theirView.contains(echoProtocol))
        let theirAddresses = try #require(theirIdentify["listen_addrs"] as? [any Sendable]).compactMap { $0 as? String }
        #expect(theirAddresses == [address.removingPeerID().description])

        var pings: [Double] = []
        for _ in 0..<3 {
            let ping = try await python.next("ping")
            pings.append(try #require(ping["rtt_ms"] as? Double))
        }
        #expect(pings.allSatisfy { $0 > 0 && $0 < 30_000 })

        let echo = try await python.next("echo")
        #expect(echo["streams"] as? Double == 50)
        #expect(echo["matched"] as? Double == 50)
        _ = try await python.next("done")

        let identified = try await nextEvent(&events) {
            if case .identified(let who, _, _, _) = $0 { return who == pythonPeer }
            return false
        }
        guard case .identified(_, let agent, let protocols, _) = identified else { return }
        #expect(agent == "py-libp2p/0.8.1")
        #expect(protocols.contains(echoProtocol))

        // The peer exits after "done": its connection closes cleanly and we report it.
        let gone = try await nextEvent(&events) {
            if case .peerDisconnected = $0 { return true }
            return false
        }
        #expect(gone == .peerDisconnected(peer: pythonPeer))
        #expect(python.waitForExit() == 0)
    }

    @Test("py-libp2p connects and disconnects five times in a row: five new connections, each reported and closed")
    func pythonReconnects() async throws {
        let host = try self.makeHost()
        try await host.start()
        try await withShutdown(of: host) { () async throws in
            var events = host.events.makeAsyncIterator()
            let address = try #require(host.listenAddresses.first)
            let python = try self.startPythonPeer(["--dial", address.description, "--connect-count", "5"])
            defer { python.stop() }
            let pythonPeer = try PeerID(
                parsing: try #require(try await python.next("listening")["peer_id"] as? String)
            )
            for _ in 0..<5 {
                let connected = try await nextEvent(&events) {
                    if case .peerConnected = $0 { return true }
                    return false
                }
                guard case .peerConnected(let peer, let direction, _) = connected else { return }
                #expect(peer == pythonPeer && direction == .inbound)
                let gone = try await nextEvent(&events) {
                    if case .peerDisconnected = $0 { return true }
                    return false
                }
                #expect(gone == .peerDisconnected(peer: pythonPeer))
            }
            let result = try await python.next("connections")
            #expect(result["count"] as? Double == 5)
            #expect(python.waitForExit() == 0)
        }
    }
}
