import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import Testing

/// Reads length-prefixed RPC frames from a stream.
struct FrameReader {
    let stream: P2PStream
    var buffer = ByteBuffer()

    init(_ stream: P2PStream) {
        self.stream = stream
    }

    /// The next RPC, or `nil` when the stream ended.
    mutating func next() async throws -> GossipSubRPC? {
        while true {
            if let rpc = try GossipSubRPC.readFrame(from: &self.buffer) { return rpc }
            guard var chunk = try await self.stream.read() else { return nil }
            self.buffer.writeBuffer(&chunk)
        }
    }

    /// The next RPC that carries messages.
    mutating func nextMessages() async throws -> [GossipMessage]? {
        while let rpc = try await self.next() {
            if !rpc.messages.isEmpty { return rpc.messages }
        }
        return nil
    }
}

/// Writes `rpc` as frames on `stream`.
func write(_ rpc: GossipSubRPC, to stream: P2PStream) async throws {
    var buffer = ByteBuffer()
    try rpc.writeFrames(into: &buffer)
    try await stream.write(buffer)
}

@Suite("GossipSub service: networks and misbehaving streams", .timeLimit(.minutes(3)))
struct GossipSubServiceNetworkTests {
    @Test("Eight hosts over loopback TCP (ring plus chords): every message reaches every other host exactly once")
    func loopbackNetwork() async throws {
        let count = 8
        let changes = ChangeSignal()
        var nodes: [ServiceNode] = []
        var collectors: [MessageCollector] = []
        for _ in 0..<count {
            let node = try await ServiceNode.start(changes: changes)
            nodes.append(node)
            collectors.append(MessageCollector(await node.service.subscribe("net"), changes: changes))
        }
        var neighbours = [Set<PeerID>](repeating: [], count: count)
        for index in 0..<count {
            for step in [1, 3] {
                let other = (index + step) % count
                let address = try #require(nodes[other].host.listenAddresses.first)
                _ = try await nodes[index].host.dial(address)
                neighbours[index].insert(nodes[other].peer)
                neighbours[other].insert(nodes[index].peer)
            }
        }
        await changes.waitUntil {
            for (node, expected) in zip(nodes, neighbours) {
                guard await Set(node.service.peers(subscribedTo: "net")) == expected else { return false }
            }
            return true
        }
        // Degree 4 < D_lo: one heartbeat grafts every neighbour, and the GRAFTs make the meshes symmetric.
        for node in nodes {
            await node.service.heartbeat()
        }
        await changes.waitUntil {
            for (node, expected) in zip(nodes, neighbours) {
                guard await Set(node.service.meshPeers(of: "net")) == expected else { return false }
            }
            return true
        }

        var published: [GossipMessageID: PeerID] = [:]
        for (index, node) in nodes.enumerated() {
            let id = try await node.service.publish(topic: "net", data: Array("message \(index)".utf8))
            published[id] = node.peer
        }
        await changes.waitUntil { collectors.allSatisfy { $0.messages.count >= count - 1 } }
        // One more round trip through every mesh link before counting, so late duplicates would show.
        let marker = try await nodes[0].service.publish(topic: "net", data: Array("marker".utf8))
        await changes.waitUntil { collectors.dropFirst().allSatisfy { $0.messages.contains { $0.id == marker } } }

        for (node, collector) in zip(nodes, collectors) {
            let messages = collector.messages.filter { $0.id != marker }
            let expected = Set(published.filter { $0.value != node.peer }.keys)
            #expect(messages.count == count - 1, "\(node.peer) got \(messages.count) messages")
            #expect(Set(messages.map(\.id)) == expected)
            for message in messages {
                #expect(message.from == published[message.id])
            }
        }
        for node in nodes {
            await node.stop()
        }
    }

    @Test("A pubsub stream the peer closes is re-opened and carries the next messages")
    func closedStreamIsReopened() async throws {
        let changes = ChangeSignal()
        let node = try await ServiceNode.start(changes: changes, listen: false)
        _ = await node.service.subscribe("t")
        // A bare host plays the peer and records the pubsub streams the node opens to it.
        let fakeKey = PrivateKey()
        let fake = try LibP2PHost(identity: fakeKey)
        try await fake.start()
        let (opened, openedContinuation) = AsyncStream<P2PStream>.makeStream()
        fake.setHandler(protocol: GossipSubProtocolID.meshsub11.rawValue) { stream in
            openedContinuation.yield(stream)
        }
        var streams = opened.makeAsyncIterator()
        _ = try await node.host.connect(inProcessTo: fake)

        let first = try #require(await streams.next())
        var firstReader = FrameReader(first)
        let hello = try #require(try await firstReader.next())
        #expect(hello.subscriptions == [GossipSubRPC.Subscription(subscribe: true, topic: "t")])

        // The peer subscribes on its own stream, then closes the node's stream.
        let toNode = try await fake.newStream(to: node.peer, protocols: [GossipSubProtocolID.meshsub11.rawValue])
        try await write(GossipSubRPC(subscriptions: [.init(subscribe: true, topic: "t")]), to: toNode)
        await changes.waitUntil { await node.service.peers(subscribedTo: "t") == [fake.peerID] }
        await first.close()

        let second = try #require(await streams.next())
        #expect(second.remotePeer == node.peer)
        let id = try await node.service.publish(topic: "t", data: Array("after reset".utf8))
        var secondReader = FrameReader(second)
        let messages = try #require(try await secondReader.nextMessages())
        #expect(messages.map(\.payload) == [Array("after reset".utf8)])
        #expect(GossipSubMessageIDFunction.fromAndSeqno.messageID(of: messages[0]) == id)

        await toNode.close()
        await node.stop()
        await fake.shutdown()
    }

    @Test(
        "A malformed or oversized frame closes that inbound stream and penalises the peer; the node keeps serving",
        arguments: [
            [0x03, 0xFF, 0xFF, 0xFF] as [UInt8],  // a 3-byte RPC that is not protobuf
            [0x80, 0x80, 0x80, 0x01] as [UInt8],  // announces a 2 MiB RPC (over the 1 MiB limit)
        ]
    )
    func badFrame(bytes: [UInt8]) async throws {
        var configuration = GossipSubServiceConfiguration()
        configuration.router.scoring = GossipSubScoreParameters()
        let changes = ChangeSignal()
        let node = try await ServiceNode.start(changes: changes, configuration: configuration, listen: false)
        let received = MessageCollector(await node.service.subscribe("t"), changes: changes)
        let fakeKey = PrivateKey()
        let fake = try LibP2PHost(identity: fakeKey)
        try await fake.start()
        fake.setHandler(protocol: GossipSubProtocolID.meshsub11.rawValue) { _ in }
        _ = try await node.host.connect(inProcessTo: fake)
        let hello = try await fake.newStream(to: node.peer, protocols: [GossipSubProtocolID.meshsub11.rawValue])
        try await write(GossipSubRPC(subscriptions: [.init(subscribe: true, topic: "t")]), to: hello)
        await changes.waitUntil { await node.service.peers(subscribedTo: "t") == [fake.peerID] }
        #expect(await node.service.connectedPeers() == [fake.peerID])
        #expect(await node.service.score(of: fake.peerID) == 0)

        let bad = try await fake.newStream(to: node.peer, protocols: [GossipSubProtocolID.meshsub11.rawValue])
        try await bad.write(ByteBuffer(bytes: bytes))
        // The node closes the stream: the peer reads its end.
        let ended: Bool
        do {
            ended = try await bad.read() == nil
        } catch {
            ended = true
        }
        #expect(ended)
        #expect(await node.service.score(of: fake.peerID) < 0)

        // A fresh stream from the same peer is served.
        let good = try await fake.newStream(to: node.peer, protocols: [GossipSubProtocolID.meshsub11.rawValue])
        let message = try GossipMessage.make(
            topic: "t",
            data: Array("still served".utf8),
            policy: .strictSign,
            key: fakeKey,
            seqno: 1
        )
        try await write(GossipSubRPC(messages: [message]), to: good)
        await changes.waitUntil { !received.messages.isEmpty }
        #expect(received.messages.map(\.data) == [Array("still served".utf8)])
        #expect(received.messages.first?.from == fake.peerID)

        await good.close()
        await bad.close()
        await hello.close()
        await node.stop()
        await fake.shutdown()
    }
}
