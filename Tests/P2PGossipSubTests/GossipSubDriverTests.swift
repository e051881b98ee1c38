import NIOCore
import P2PCore
import P2PGossipSub
import TestSupport
import Testing

/// Collects what a driver hands to the application and the network.
actor Recorder {
    var delivered: [(GossipMessage, PeerID)] = []
    var validated = 0
    var sentBytes = 0

    func deliver(_ message: GossipMessage, _ source: PeerID) {
        self.delivered.append((message, source))
    }

    func validate() {
        self.validated += 1
    }

    func sent(_ count: Int) {
        self.sentBytes += count
    }
}

/// Forwards sends to a driver that is created after the closure.
actor Link {
    var target: GossipSubDriver?

    func connect(_ target: GossipSubDriver) {
        self.target = target
    }

    func deliver(from peer: PeerID, _ bytes: ByteBuffer) async {
        try? await self.target?.bytesReceived(from: peer, bytes)
    }
}

@Suite("GossipSub driver")
struct GossipSubDriverTests {
    static func driver(
        key: PrivateKey,
        link: Link,
        recorder: Recorder,
        verdict: GossipSubValidationResult = .accept
    ) throws -> GossipSubDriver {
        let me = PeerID(publicKey: key.publicKey)
        return GossipSubDriver(
            router: try GossipSubRouter(localKey: key),
            rng: SplitMix64(seed: 7),
            now: { at(0) },
            send: { _, bytes in
                await recorder.sent(bytes.readableBytes)
                await link.deliver(from: me, bytes)
            },
            validate: { _, _ in
                await recorder.validate()
                return verdict
            },
            deliver: { message, _, source in await recorder.deliver(message, source) }
        )
    }

    @Test("Two drivers wired back to back exchange subscriptions, graft each other and deliver a published message")
    func endToEnd() async throws {
        let (keyA, keyB) = (fixedKey(1), fixedKey(2))
        let (toA, toB) = (Link(), Link())
        let (recorderA, recorderB) = (Recorder(), Recorder())
        let a = try Self.driver(key: keyA, link: toB, recorder: recorderA)
        let b = try Self.driver(key: keyB, link: toA, recorder: recorderB)
        await toA.connect(a)
        await toB.connect(b)
        let (peerA, peerB) = (PeerID(publicKey: keyA.publicKey), PeerID(publicKey: keyB.publicKey))
        await a.subscribe("t")
        await b.subscribe("t")
        await a.peerConnected(peerB, outbound: true)
        await b.peerConnected(peerA, outbound: false)
        await a.heartbeat()
        #expect(await a.state.meshPeers("t") == [peerB])
        #expect(await b.state.meshPeers("t") == [peerA])
        try await a.publish(topic: "t", data: Array("hello".utf8))
        let delivered = await recorderB.delivered
        #expect(delivered.count == 1)
        #expect(delivered.first?.0.data == Array("hello".utf8))
        #expect(delivered.first?.1 == peerA)
        #expect(await recorderB.validated == 1)
        #expect(await recorderA.delivered.isEmpty)
    }

    @Test("A rejected message is not delivered")
    func rejected() async throws {
        let (keyA, keyB) = (fixedKey(1), fixedKey(2))
        let (toA, toB) = (Link(), Link())
        let recorderB = Recorder()
        let a = try Self.driver(key: keyA, link: toB, recorder: Recorder())
        let b = try Self.driver(key: keyB, link: toA, recorder: recorderB, verdict: .reject)
        await toA.connect(a)
        await toB.connect(b)
        await b.subscribe("t")
        await a.peerConnected(PeerID(publicKey: keyB.publicKey), outbound: true)
        await b.peerConnected(PeerID(publicKey: keyA.publicKey), outbound: false)
        try await a.publish(topic: "t", data: [1])
        #expect(await recorderB.validated == 1)
        #expect(await recorderB.delivered.isEmpty)
    }

    @Test("Frames split across reads are reassembled; a malformed frame throws and is penalised")
    func framing() async throws {
        let recorder = Recorder()
        let driver = try Self.driver(key: fixedKey(1), link: Link(), recorder: recorder)
        await driver.subscribe("t")
        let peer = fixedPeer(2)
        await driver.peerConnected(peer, outbound: false)
        var frame = ByteBuffer()
        try GossipSubRPC(
            subscriptions: [.init(subscribe: true, topic: "t")],
            messages: [signedMessage("t", "x", author: 2)]
        ).writeFrames(into: &frame)
        let bytes = Array(frame.readableBytesView)
        for byte in bytes {
            try await driver.bytesReceived(from: peer, ByteBuffer(bytes: [byte]))
        }
        #expect(await recorder.delivered.count == 1)
        #expect(await driver.state.topics(of: peer) == ["t"])
        await #expect(throws: GossipSubError.self) {
            try await driver.bytesReceived(from: peer, ByteBuffer(bytes: hex("02 12 05")))
        }
        await #expect(throws: GossipSubError.self) {
            try await driver.bytesReceived(from: peer, ByteBuffer(bytes: hex("ff ff ff 7f")))
        }
    }
}
