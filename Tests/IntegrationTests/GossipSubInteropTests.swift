import Foundation
import P2PCore
import P2PGossipSub
import P2PHost
import Testing

@Suite(
    "GossipSub interop: py-libp2p peers and the pubsub command",
    .tags(.integration),
    .serialized,
    .timeLimit(.minutes(5))
)
struct GossipSubInteropTests {
    /// Starts `Interop/interop_pubsub.py` (py-libp2p 0.8.1) on `topic`.
    static func pythonPeer(
        _ name: String,
        topic: String,
        noSign: Bool = false,
        signal: InteropSignal
    ) throws -> PubsubProcess {
        guard
            let script = Bundle.module.url(forResource: "interop_pubsub", withExtension: "py", subdirectory: "Interop")
        else {
            throw IntegrationFailure(description: "Interop/interop_pubsub.py is missing from the test resources")
        }
        return try PubsubProcess(
            name: name,
            executable: IntegrationPaths.interopPython(),
            arguments: ["-u", script.path, "--topic", topic, "--duration", "240"] + (noSign ? ["--no-sign"] : []),
            signal: signal
        )
    }

    /// The peer ID and first listen address a process printed in its `listening` line.
    static func listening(_ process: PubsubProcess) async throws -> (peer: String, address: String) {
        let line = try await process.first("listening")
        guard let peer = line["peer_id"] as? String, let address = (line["addrs"] as? [String])?.first else {
            throw IntegrationFailure(description: "\(process.name) printed a listening line without peer_id/addrs")
        }
        return (peer, address)
    }

    @Test(
        "A Swift node and a py-libp2p peer subscribe, publish and receive in both directions",
        arguments: [false, true]
    )
    func swiftAndPython(noSign: Bool) async throws {
        let topic = noSign ? "interop-anonymous" : "interop-signed"
        let signal = InteropSignal()
        let python = try Self.pythonPeer("py", topic: topic, noSign: noSign, signal: signal)
        defer { python.stop() }
        let swift = try await SwiftPubsubNode.start(topic: topic, noSign: noSign, signal: signal)
        try await withStopping([swift]) { () async throws in
            let (pythonPeer, pythonAddress) = try await Self.listening(python)
            _ = try await swift.host.dial(try Multiaddr(parsing: pythonAddress))

            _ = try await python.first("peer_subscribed") { $0["peer_id"] as? String == swift.peer.description }
            try await signal.waitUntil("the Swift node sees the py peer in \(topic)") {
                await swift.service.peers(subscribedTo: topic).map(\.description) == [pythonPeer]
            }

            // py-libp2p sends its own messages to its mesh only (no flood publishing): wait for its heartbeat to graft us.
            _ = try await python.first("mesh") { ($0["peers"] as? [String])?.contains(swift.peer.description) == true }
            python.send(line: "from python")
            try await signal.waitUntil("the Swift node receives the py message") { !swift.received.isEmpty }
            let fromPython = try #require(swift.received.first)
            #expect(fromPython.data == Array("from python".utf8))
            #expect(fromPython.from?.description == (noSign ? nil : pythonPeer))
            #expect(fromPython.propagationSource.description == pythonPeer)

            try await swift.service.publish(topic: topic, data: Array("from swift".utf8))
            let fromSwift = try await python.first("message") { $0["data"] as? String == "from swift" }
            #expect(fromSwift["topic"] as? String == topic)
            #expect(fromSwift["signed"] as? Bool == !noSign)
            if noSign {
                #expect(fromSwift["from"] is NSNull)
            } else {
                #expect(fromSwift["from"] as? String == swift.peer.description)
            }
            #expect(python.events("rejected").isEmpty)
            #expect(swift.received.count == 1)
        }
    }

    @Test("Three py-libp2p peers and three Swift nodes: every message published anywhere reaches everyone once")
    func mixedNetwork() async throws {
        let topic = "interop-mixed"
        let signal = InteropSignal()
        let pythons = try (0..<3).map { try Self.pythonPeer("py\($0)", topic: topic, signal: signal) }
        defer {
            for python in pythons {
                python.stop()
            }
        }
        var swifts: [SwiftPubsubNode] = []
        for _ in 0..<3 {
            swifts.append(try await SwiftPubsubNode.start(topic: topic, signal: signal))
        }
        try await withStopping(swifts) { () async throws in
            var pythonPeers: [String] = []
            // Every Swift node dials every py peer (a complete bipartite graph): py-to-py traffic crosses a Swift
            // node and Swift-to-Swift traffic crosses a py peer.
            for python in pythons {
                let (peer, address) = try await Self.listening(python)
                pythonPeers.append(peer)
                for swift in swifts {
                    _ = try await swift.host.dial(try Multiaddr(parsing: address))
                }
            }
            let swiftPeers = Set(swifts.map(\.peer.description))

            try await signal.waitUntil("every node sees its three neighbours in the topic and in its mesh") {
                for swift in swifts {
                    guard Set(await swift.service.meshPeers(of: topic).map(\.description)) == Set(pythonPeers) else {
                        return false
                    }
                }
                for python in pythons {
                    guard let mesh = python.events("mesh").last?["peers"] as? [String], Set(mesh) == swiftPeers else {
                        return false
                    }
                }
                return true
            }

            var expected: Set<String> = []
            for round in 0..<2 {
                for (index, swift) in swifts.enumerated() {
                    let text = "swift \(index) round \(round)"
                    try await swift.service.publish(topic: topic, data: Array(text.utf8))
                    expected.insert(text)
                }
                for (index, python) in pythons.enumerated() {
                    let text = "py \(index) round \(round)"
                    python.send(line: text)
                    expected.insert(text)
                }
            }
            let perNode = expected.count - 2
            try await signal.waitUntil("every node receives the \(perNode) messages of the others") {
                swifts.allSatisfy { $0.received.count >= perNode }
                    && pythons.allSatisfy { $0.events("message").count >= perNode }
            }
            // A last message through every node, so that late duplicates of the others would be counted.
            pythons[0].send(line: "marker")
            try await signal.waitUntil("the marker arrives everywhere") {
                swifts.allSatisfy { $0.received.contains { $0.data == Array("marker".utf8) } }
                    && pythons.dropFirst().allSatisfy {
                        $0.events("message").contains { $0["data"] as? String == "marker" }
                    }
            }

            for (index, swift) in swifts.enumerated() {
                let texts = swift.received.map { String(decoding: $0.data, as: UTF8.self) }.filter { $0 != "marker" }
                #expect(texts.count == perNode, "swift \(index) received \(texts.count)")
                #expect(Set(texts) == expected.subtracting(["swift \(index) round 0", "swift \(index) round 1"]))
            }
            for (index, python) in pythons.enumerated() {
                let texts = python.events("message").compactMap { $0["data"] as? String }.filter { $0 != "marker" }
                #expect(texts.count == perNode, "py \(index) received \(texts.count)")
                #expect(Set(texts) == expected.subtracting(["py \(index) round 0", "py \(index) round 1"]))
            }
        }
    }

    @Test(
        "phantom-trail p2p pubsub: two processes exchange stdin lines as JSON message events",
        arguments: [false, true]
    )
    func pubsubCommand(noSign: Bool) async throws {
        let binary = try IntegrationPaths.cliBinary()
        let signal = InteropSignal()
        let common = ["p2p", "pubsub", "--topic", "cli", "--json", "--publish-stdin"] + (noSign ? ["--no-sign"] : [])
        let first = try PubsubProcess(name: "first", executable: binary, arguments: common, signal: signal)
        defer { first.stop() }
        let (firstPeer, firstAddress) = try await Self.listening(first)
        let second = try PubsubProcess(
            name: "second",
            executable: binary,
            arguments: common + ["--dial", firstAddress],
            signal: signal
        )
        defer { second.stop() }
        let (secondPeer, _) = try await Self.listening(second)
        _ = try await first.first("peer_subscribed") { $0["peer_id"] as? String == secondPeer }
        _ = try await second.first("peer_subscribed") { $0["peer_id"] as? String == firstPeer }

        second.send(line: "hello from second")
        let message = try await first.first("message")
        #expect(message["topic"] as? String == "cli")
        #expect(message["data"] as? String == "hello from second")
        #expect(message["from"] as? String == (noSign ? nil : secondPeer))
        #expect(message["encoding"] == nil)

        first.send(line: "héllo back")
        let reply = try await second.first("message")
        #expect(reply["data"] as? String == "héllo back")
        #expect(first.events("published").count == 1)
        #expect(second.events("published").count == 1)
        #expect(first.events("message").count == 1)
        #expect(second.events("message").count == 1)
    }
}
