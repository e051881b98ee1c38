import NIOCore
import P2PCore
import P2PGossipSub
import Testing

@Suite("GossipSub v1.1 peer scoring")
struct PeerScoreTests {
    /// Topic parameters with every weight at zero, so each test switches on one term.
    static func silentTopic() -> GossipSubTopicScoreParameters {
        var topic = GossipSubTopicScoreParameters()
        topic.timeInMeshWeight = 0
        topic.firstMessageDeliveriesWeight = 0
        topic.meshMessageDeliveriesWeight = 0
        topic.meshFailurePenaltyWeight = 0
        topic.invalidMessageDeliveriesWeight = 0
        return topic
    }

    static func harness(
        topic: GossipSubTopicScoreParameters,
        _ adjust: (inout GossipSubScoreParameters) -> Void = { _ in }
    )
        throws -> RouterHarness
    {
        var scoring = GossipSubScoreParameters()
        scoring.topics["t"] = topic
        adjust(&scoring)
        var configuration = GossipSubConfiguration()
        configuration.scoring = scoring
        return try RouterHarness(configuration: configuration)
    }

    @Test("P₁ grows with time in the mesh, one unit per quantum, up to the cap")
    func timeInMesh() throws {
        var topic = Self.silentTopic()
        topic.timeInMeshWeight = 0.5
        topic.timeInMeshCap = 10
        var harness = try Self.harness(topic: topic)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        _ = harness.heartbeat(after: 4)
        #expect(harness.router.score(of: peer) == 2)
        _ = harness.heartbeat(after: 100)
        #expect(harness.router.score(of: peer) == 5)
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t")]), from: peer)
        #expect(harness.router.score(of: peer) == 0)
    }

    @Test("P₂ counts first deliveries of accepted messages and decays")
    func firstDeliveries() throws {
        var topic = Self.silentTopic()
        topic.firstMessageDeliveriesWeight = 1
        topic.firstMessageDeliveriesDecay = 0.5
        var harness = try Self.harness(topic: topic)
        let peers = harness.addPeers(1...2, topics: ["t"])
        _ = harness.subscribe("t")
        _ = harness.heartbeat()  // first decay tick
        for n: UInt64 in 1...2 {
            let message = signedMessage("t", "m", author: 50, seqno: n)
            _ = harness.receive(GossipSubRPC(messages: [message]), from: peers[0])
            _ = harness.receive(GossipSubRPC(messages: [message]), from: peers[1])  // duplicate: no P₂
            _ = harness.validate(messageID(message), .accept)
        }
        let ignored = signedMessage("t", "m", author: 50, seqno: 3)
        _ = harness.receive(GossipSubRPC(messages: [ignored]), from: peers[0])
        _ = harness.validate(messageID(ignored), .ignore)
        #expect(harness.router.score(of: peers[0]) == 2)
        #expect(harness.router.score(of: peers[1]) == 0)
        _ = harness.heartbeat()
        #expect(harness.router.score(of: peers[0]) == 1)
    }

    @Test("P₃ penalises a mesh delivery deficit after activation; P₃b keeps it after the prune")
    func meshDeliveries() throws {
        var topic = Self.silentTopic()
        topic.meshMessageDeliveriesWeight = -1
        topic.meshMessageDeliveriesThreshold = 4
        topic.meshMessageDeliveriesDecay = 1
        topic.meshMessageDeliveriesActivation = .seconds(2)
        topic.meshFailurePenaltyWeight = -0.5
        topic.meshFailurePenaltyDecay = 1
        var harness = try Self.harness(topic: topic)
        let peers = harness.addPeers(1...2, topics: ["t"])
        _ = harness.subscribe("t")
        #expect(harness.router.meshPeers("t") == Set(peers))
        let message = signedMessage("t", "m", author: 50)
        _ = harness.receive(GossipSubRPC(messages: [message]), from: peers[0])
        _ = harness.validate(messageID(message), .accept)
        // A mesh peer's duplicate within the delivery window counts too.
        harness.now = harness.now + .milliseconds(5)
        _ = harness.receive(GossipSubRPC(messages: [message]), from: peers[1])
        _ = harness.heartbeat(after: 1)
        #expect(harness.router.score(of: peers[0]) == 0)  // not active yet
        // Now active: P₃ = −(4 − 1)² makes both scores negative, so this heartbeat prunes them, which turns
        // the deficit into the sticky P₃b = 9 at weight −0.5.
        let beat = harness.heartbeat(after: 1.5)
        #expect(Set(beat.prunes("t").keys) == Set(peers))
        #expect(harness.router.meshPeers("t").isEmpty)
        #expect(harness.router.score(of: peers[0]) == -4.5)
        #expect(harness.router.score(of: peers[1]) == -4.5)
    }

    @Test("P₃ applies only while in the mesh and after activation")
    func meshDeficitWhileInMesh() throws {
        var topic = Self.silentTopic()
        topic.meshMessageDeliveriesWeight = -0.25
        topic.meshMessageDeliveriesThreshold = 3
        topic.meshMessageDeliveriesActivation = .seconds(2)
        var harness = try Self.harness(topic: topic)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        harness.router.setApplicationScore(peer, 10)
        _ = harness.subscribe("t")
        _ = harness.heartbeat(after: 1)
        #expect(harness.router.score(of: peer) == 10)
        _ = harness.heartbeat(after: 1)
        #expect(harness.router.score(of: peer) == 10 - 0.25 * 9)
        #expect(harness.router.meshPeers("t") == [peer])
    }

    @Test("P₄ counts rejected and policy-breaking messages, squared, for the source and duplicate senders")
    func invalidMessages() throws {
        var topic = Self.silentTopic()
        topic.invalidMessageDeliveriesWeight = -1
        topic.invalidMessageDeliveriesDecay = 1
        var harness = try Self.harness(topic: topic)
        let peers = harness.addPeers(1...2, topics: ["t"])
        _ = harness.subscribe("t")
        let bad = signedMessage("t", "bad", author: 50)
        _ = harness.receive(GossipSubRPC(messages: [bad]), from: peers[0])
        _ = harness.receive(GossipSubRPC(messages: [bad]), from: peers[1])
        _ = harness.validate(messageID(bad), .reject)
        #expect(harness.router.score(of: peers[1]) == -1)
        _ = harness.receive(GossipSubRPC(messages: [GossipMessage(data: [1], topic: "t")]), from: peers[0])
        _ = harness.receive(GossipSubRPC(messages: [GossipMessage(data: [2], topic: "t")]), from: peers[0])
        #expect(harness.router.score(of: peers[0]) == -9)  // 3 invalid → −3²
    }

    @Test("P₅, P₆ and P₇ add the application score, colocation and behaviour penalties; P₇ decays")
    func peerLevelTerms() throws {
        var harness = try Self.harness(topic: Self.silentTopic()) { scoring in
            scoring.appSpecificWeight = 2
            scoring.ipColocationFactorThreshold = 1
            scoring.ipColocationFactorWeight = -1
            scoring.behaviourPenaltyDecay = 0.5
        }
        let shared = harness.addPeers(1...3, topics: ["t"], colocationKey: "10.0.0.1")
        let alone = harness.addPeers(4...4, topics: ["t"], colocationKey: "10.0.0.2")[0]
        for peer in shared {
            #expect(harness.router.score(of: peer) == -4)  // (3 − 1)²
        }
        #expect(harness.router.score(of: alone) == 0)
        harness.router.setApplicationScore(alone, 1.5)
        #expect(harness.router.score(of: alone) == 3)
        _ = harness.router.rpcDecodingFailed(from: alone, error: GossipSubError(.malformedRPC, "x"))
        _ = harness.router.rpcDecodingFailed(from: alone, error: GossipSubError(.malformedRPC, "x"))
        #expect(harness.router.score(of: alone) == 3 - 4)
        _ = harness.heartbeat()
        #expect(harness.router.score(of: alone) == 3 - 1)  // penalty 2 × 0.5 = 1
    }

    @Test("P₆ counts retained peers until their score expires")
    func colocationAfterDisconnect() throws {
        var harness = try Self.harness(topic: Self.silentTopic()) { $0.retainScore = .seconds(10) }
        let shared = harness.addPeers(1...3, topics: ["t"], colocationKey: "10.0.0.1")
        _ = harness.router.peerDisconnected(shared[0], now: harness.now)
        #expect(harness.router.score(of: shared[1]) == -4)
        _ = harness.heartbeat(after: 11)
        #expect(harness.router.score(of: shared[1]) == -1)
        _ = harness.router.peerConnected(shared[0], outbound: false, colocationKey: "10.0.0.9")
        #expect(harness.router.score(of: shared[1]) == -1)
        #expect(harness.router.score(of: shared[0]) == 0)
    }

    @Test("The topic score cap limits the positive topic part")
    func topicCap() throws {
        var topic = Self.silentTopic()
        topic.firstMessageDeliveriesWeight = 1
        var harness = try Self.harness(topic: topic) { $0.topicScoreCap = 1.5 }
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        for n: UInt64 in 1...3 {
            let message = signedMessage("t", "m", author: 50, seqno: n)
            _ = harness.receive(GossipSubRPC(messages: [message]), from: peer)
            _ = harness.validate(messageID(message), .accept)
        }
        #expect(harness.router.score(of: peer) == 1.5)
    }

    @Test("A disconnected peer's score is retained and restored when it reconnects")
    func retainScore() throws {
        var harness = try Self.harness(topic: Self.silentTopic())
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.router.rpcDecodingFailed(from: peer, error: GossipSubError(.malformedRPC, "x"))
        _ = harness.router.peerDisconnected(peer, now: harness.now)
        _ = harness.router.peerConnected(peer, outbound: false)
        #expect(harness.router.score(of: peer) == -1)
    }

    @Test(
        "Thresholds: graylisted peers are ignored, low scorers get no gossip or flood publish, negative ones leave the mesh"
    )
    func thresholds() throws {
        var harness = try Self.harness(topic: Self.silentTopic())
        let peers = harness.addPeers(1...8, topics: ["t"])
        _ = harness.subscribe("t")
        let mesh = harness.router.meshPeers("t").sorted()
        let outside = peers.filter { !mesh.contains($0) }
        // Gossip threshold −10, publish −50, graylist −80.
        harness.router.setApplicationScore(mesh[0], -5)
        harness.router.setApplicationScore(outside[0], -20)
        harness.router.setApplicationScore(outside[1], -60)
        let graylisted = outside[1]
        harness.router.setApplicationScore(mesh[1], -90)
        let ignored = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: mesh[1])
        #expect(ignored.events.contains { if case .rpcIgnored(mesh[1], _) = $0 { true } else { false } })
        let published = try harness.publish("t", "x").effects
        #expect(!published.sent.keys.contains(graylisted))
        #expect(!published.sent.keys.contains(mesh[1]))
        #expect(published.sent.keys.contains(outside[0]))
        let ihave = harness.control(
            GossipSubControl(ihave: [.init(topic: "t", messageIDs: [GossipMessageID([5])])]),
            from: outside[0]
        )
        #expect(ihave.sent.isEmpty)
        let beat = harness.heartbeat()
        #expect(Set(beat.prunes("t").keys) == [mesh[0], mesh[1]])
        #expect(beat.prunes("t").values.allSatisfy { $0.peers.isEmpty })
        let gossipTargets = beat.sent.filter { $0.value.control?.ihave.isEmpty == false }.keys
        #expect(!gossipTargets.contains(outside[0]))
        #expect(!gossipTargets.contains(graylisted))
    }

    @Test("Opportunistic grafting adds better-scoring peers every 60 heartbeats when the mesh median is low")
    func opportunisticGrafting() throws {
        var harness = try Self.harness(topic: Self.silentTopic())
        harness.addPeers(1...6, topics: ["t"])
        _ = harness.subscribe("t")
        let good = harness.addPeers(20...23, topics: ["t"])
        for peer in good {
            harness.router.setApplicationScore(peer, 30)
        }
        for _ in 1..<60 {
            #expect(harness.heartbeat().grafted("t").isEmpty)
        }
        let grafted = harness.heartbeat().grafted("t")
        #expect(grafted.count == 2)
        #expect(grafted.isSubset(of: Set(good)))
    }
}
