import NIOCore
import P2PCore
import P2PGossipSub
import Testing

@Suite("GossipSub router: messages, validation, publishing, gossip")
struct GossipSubRouterMessageTests {
    /// A router subscribed to "t" with peers 1…10 in the topic.
    static func subscribed(
        _ configuration: GossipSubConfiguration = GossipSubConfiguration()
    ) throws
        -> RouterHarness
    {
        var harness = try RouterHarness(configuration: configuration)
        harness.addPeers(1...10, topics: ["t"])
        _ = harness.subscribe("t")
        return harness
    }

    @Test(
        "A new message is only announced for validation; accept delivers it and forwards it to the mesh except source and author"
    )
    func validateThenForward() throws {
        var harness = try Self.subscribed()
        let mesh = harness.router.meshPeers("t").sorted()
        let source = mesh[0]
        let message = signedMessage("t", "hello", author: 2)  // fixedPeer(2) may or may not be in the mesh
        let authorPeer = fixedPeer(2)
        let received = harness.receive(GossipSubRPC(messages: [message]), from: source)
        #expect(received.validations == [messageID(message)])
        #expect(received.sent.isEmpty)
        #expect(received.deliveries.isEmpty)
        #expect(!harness.router.isCached(messageID(message)))
        let accepted = harness.validate(messageID(message), .accept)
        #expect(accepted.deliveries == [messageID(message)])
        #expect(accepted.recipients(of: message) == Set(mesh).subtracting([source, authorPeer]))
        #expect(harness.router.isCached(messageID(message)))
        // The verdict is only taken once.
        #expect(harness.validate(messageID(message), .accept).isEmpty)
    }

    @Test("Duplicates are neither validated nor forwarded again")
    func duplicates() throws {
        var harness = try Self.subscribed()
        let message = signedMessage("t", "once", author: 50)
        let mesh = harness.router.meshPeers("t").sorted()
        #expect(harness.receive(GossipSubRPC(messages: [message]), from: mesh[0]).validations.count == 1)
        #expect(harness.receive(GossipSubRPC(messages: [message]), from: mesh[1]).validations.isEmpty)
        #expect(harness.receive(GossipSubRPC(messages: [message, message]), from: mesh[2]).validations.isEmpty)
        #expect(harness.router.pendingValidations == 1)
    }

    @Test("Reject and ignore drop the message: no delivery, no forwarding, not served to IWANT")
    func rejectAndIgnore() throws {
        for verdict in [GossipSubValidationResult.reject, .ignore] {
            var harness = try Self.subscribed()
            let message = signedMessage("t", "bad", author: 50)
            let source = harness.router.meshPeers("t").sorted()[0]
            _ = harness.receive(GossipSubRPC(messages: [message]), from: source)
            let effects = harness.validate(messageID(message), verdict)
            #expect(effects.isEmpty)
            #expect(!harness.router.isCached(messageID(message)))
            let asked = harness.control(
                GossipSubControl(iwant: [.init(messageIDs: [messageID(message)])]),
                from: harness.router.meshPeers("t").sorted()[1]
            )
            #expect(asked.sent.isEmpty)
        }
    }

    @Test("Messages breaking the topic's signature policy are rejected before validation")
    func policyBreakingMessages() throws {
        var configuration = GossipSubConfiguration()
        configuration.topics["anon"] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t", "anon"])[0]
        _ = harness.subscribe("t")
        _ = harness.subscribe("anon")
        var forged = signedMessage("t", "hi", author: 50)
        forged.data = Array("hijacked".utf8)
        let unsigned = GossipMessage(data: [1], topic: "t")
        let signedOnAnon = signedMessage("anon", "x", author: 50)
        let effects = harness.receive(GossipSubRPC(messages: [forged, unsigned, signedOnAnon]), from: peer)
        #expect(effects.validations.isEmpty)
        let reasons = effects.events.compactMap { event -> GossipSubError.Code? in
            if case .messageRejected(let from, _, let reason) = event, from == peer { reason.code } else { nil }
        }
        #expect(reasons == [.invalidSignature, .policyViolation, .policyViolation])
        let anonymous = GossipMessage(data: [1], topic: "anon")
        #expect(
            harness.receive(GossipSubRPC(messages: [anonymous]), from: peer).validations == [
                GossipSubMessageIDFunction.sha256OfData.messageID(of: anonymous)
            ]
        )
    }

    @Test("A received message over the send limit but within the receive limit is delivered, not forwarded")
    func oversizedReceived() throws {
        let big = GossipMessage(data: [UInt8](repeating: 1, count: 70_000), topic: "t")
        var configuration = GossipSubConfiguration()
        configuration.defaultTopic = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        var anonymous = try RouterHarness(configuration: configuration)
        anonymous.addPeers(1...8, topics: ["t"])
        _ = anonymous.subscribe("t")
        #expect(anonymous.router.meshPeers("t").count >= 5)
        // It arrives in one frame within the 1 MiB receive limit.
        var frame = ByteBuffer()
        _ = try GossipSubRPC(messages: [big]).writeFrames(into: &frame, maxFrameSize: 1 << 20)
        #expect(frame.readableBytes > GossipSubRPC.defaultMaxSendSize)
        let decoded = try #require(try GossipSubRPC.readFrame(from: &frame))
        let effects = anonymous.receive(decoded, from: fixedPeer(1))
        let id = GossipSubMessageIDFunction.sha256OfData.messageID(of: big)
        #expect(effects.validations == [id])
        let accepted = anonymous.validate(id, .accept)
        var delivered: [GossipMessage] = []
        for case .deliver(let message, _, _) in accepted {
            delivered.append(message)
        }
        #expect(delivered == [big])
        #expect(accepted.sent.values.allSatisfy { $0.messages.isEmpty })
        #expect(!anonymous.router.isCached(id))
        // A second copy is a duplicate, not a new delivery.
        #expect(anonymous.receive(decoded, from: fixedPeer(2)).validations.isEmpty)
        // Larger than the receive limit it never reaches the router: the frame reader refuses it.
        var huge = ByteBuffer()
        let hugeMessage = GossipMessage(data: [UInt8](repeating: 2, count: (1 << 20) + 1), topic: "t")
        _ = try GossipSubRPC(messages: [hugeMessage]).writeFrames(into: &huge, maxFrameSize: 2 << 20)
        #expect(errorCode { _ = try GossipSubRPC.readFrame(from: &huge) } == .tooLarge)
    }

    @Test("Our own messages relayed back, even after the seen cache forgot them, are dropped")
    func ownMessagesDropped() throws {
        var harness = try Self.subscribed()
        let (_, effects) = try harness.publish("t", "mine")
        let message = try #require(effects.sent.values.first?.messages.first)
        #expect(harness.receive(GossipSubRPC(messages: [message]), from: fixedPeer(1)).validations.isEmpty)
        _ = harness.heartbeat(after: 121)
        #expect(harness.receive(GossipSubRPC(messages: [message]), from: fixedPeer(1)).validations.isEmpty)
        let other = signedMessage("t", "theirs", author: 50)
        #expect(harness.receive(GossipSubRPC(messages: [other]), from: fixedPeer(1)).validations.count == 1)
    }

    @Test("Messages on topics we are not subscribed to are dropped")
    func unsubscribedTopic() throws {
        var harness = try Self.subscribed()
        let effects = harness.receive(
            GossipSubRPC(messages: [signedMessage("elsewhere", "x", author: 50)]),
            from: fixedPeer(1)
        )
        #expect(effects.isEmpty)
    }

    @Test("Flood publishing sends our message to every topic peer; without it only the mesh gets it")
    func publishing() throws {
        var harness = try Self.subscribed()
        let (id, effects) = try harness.publish("t", "news")
        let flooded = effects.sent.filter { !$0.value.messages.isEmpty }
        #expect(Set(flooded.keys) == harness.router.topicPeers("t"))
        #expect(flooded.count == 10)
        let message = try #require(flooded.first?.value.messages.first)
        try message.validate(policy: .strictSign)
        #expect(messageID(message) == id)
        #expect(harness.router.isCached(id))
        #expect(effects.deliveries.isEmpty)

        var configuration = GossipSubConfiguration()
        configuration.defaultTopic.floodPublish = false
        var meshOnly = try Self.subscribed(configuration)
        let meshEffects = try meshOnly.publish("t", "news").effects
        #expect(Set(meshEffects.sent.keys) == meshOnly.router.meshPeers("t"))
        // Successive publishes use increasing seqnos, hence distinct IDs.
        #expect(try meshOnly.publish("t", "news").id != meshOnly.publish("t", "news").id)
    }

    @Test("Publishing to a topic we are not in uses a fanout of D peers that expires after the fanout TTL")
    func fanout() throws {
        var configuration = GossipSubConfiguration()
        configuration.defaultTopic.floodPublish = false
        var harness = try RouterHarness(configuration: configuration)
        harness.addPeers(1...10, topics: ["f"])
        let effects = try harness.publish("f", "one").effects
        let fanout = harness.router.fanoutPeers("f")
        #expect(fanout.count == 6)
        #expect(Set(effects.sent.keys) == fanout)
        #expect(try harness.publish("f", "two").effects.sent.keys.allSatisfy { fanout.contains($0) })
        _ = harness.heartbeat(after: 59)
        #expect(harness.router.fanoutPeers("f") == fanout)
        _ = harness.heartbeat(after: 1)
        #expect(harness.router.fanoutPeers("f").isEmpty)
        // Subscribing later takes the fanout peers into the mesh first.
        _ = try harness.publish("f", "three")
        let again = harness.router.fanoutPeers("f")
        _ = harness.subscribe("f")
        #expect(harness.router.meshPeers("f") == again)
        #expect(harness.router.fanoutPeers("f").isEmpty)
    }

    @Test("Publishing refuses messages too large for one frame and duplicate StrictNoSign payloads")
    func publishErrors() throws {
        var configuration = GossipSubConfiguration()
        configuration.topics["anon"] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        var harness = try RouterHarness(configuration: configuration)
        harness.addPeers(1...3, topics: ["anon", "t"])
        let big = [UInt8](repeating: 0, count: 64 * 1024)
        #expect(
            errorCode { _ = try harness.router.publish(topic: "t", data: big, now: harness.now, rng: &harness.rng) }
                == .tooLarge
        )
        let fits = [UInt8](repeating: 0, count: 60 * 1024)
        let (_, effects) = try harness.router.publish(topic: "t", data: fits, now: harness.now, rng: &harness.rng)
        for case .send(let rpc, _) in effects {
            var buffer = ByteBuffer()
            #expect(try rpc.writeFrames(into: &buffer) == 1)
            #expect(buffer.readableBytes <= GossipSubRPC.defaultMaxSendSize)
        }
        let first = try harness.publish("anon", "same")
        #expect(
            first.effects.sent.values.allSatisfy {
                $0.messages == [GossipMessage(data: Array("same".utf8), topic: "anon")]
            }
        )
        #expect(errorCode { _ = try harness.publish("anon", "same") } == .duplicateMessage)
    }

    @Test("Heartbeats gossip IHAVE for cached messages to non-mesh topic peers for mcache_gossip heartbeats")
    func gossip() throws {
        var harness = try RouterHarness()
        harness.addPeers(1...30, topics: ["t"])
        _ = harness.subscribe("t")
        let (id, _) = try harness.publish("t", "gossip me")
        let mesh = harness.router.meshPeers("t")
        for round in 1...3 {
            let effects = harness.heartbeat()
            let gossiped = effects.sent.filter { $0.value.control?.ihave.isEmpty == false }
            // max(D_lazy = 6, 0.25 × 24 eligible) = 6
            #expect(gossiped.count == 6, "round \(round)")
            #expect(Set(gossiped.keys).isDisjoint(with: mesh))
            for rpc in gossiped.values {
                #expect(rpc.control?.ihave == [.init(topic: "t", messageIDs: [id])])
            }
        }
        #expect(harness.heartbeat().sent.values.allSatisfy { $0.control?.ihave.isEmpty ?? true })
        #expect(harness.router.isCached(id))
        _ = harness.heartbeat()
        #expect(!harness.router.isCached(id))
    }

    @Test("Adaptive gossip reaches gossip factor × eligible peers when that exceeds D_lazy")
    func adaptiveGossip() throws {
        var harness = try RouterHarness()
        harness.addPeers(1...106, topics: ["t"])
        _ = harness.subscribe("t")
        _ = try harness.publish("t", "x")
        let gossiped = harness.heartbeat().sent.filter { $0.value.control?.ihave.isEmpty == false }
        #expect(gossiped.count == 25)  // 0.25 × (106 − 6 mesh) = 25
    }
}

@Suite("GossipSub router: IHAVE/IWANT and spam limits")
struct GossipSubRouterGossipTests {
    @Test("IHAVE is answered with IWANT for unseen IDs on subscribed topics only")
    func ihaveToIWant() throws {
        var harness = try GossipSubRouterMessageTests.subscribed()
        let peer = fixedPeer(1)
        let known = signedMessage("t", "known", author: 50)
        _ = harness.receive(GossipSubRPC(messages: [known]), from: peer)
        let unknown = GossipMessageID([9, 9])
        let effects = harness.control(
            GossipSubControl(ihave: [
                .init(topic: "t", messageIDs: [messageID(known), unknown, unknown]),
                .init(topic: "nope", messageIDs: [GossipMessageID([7])]),
            ]),
            from: peer
        )
        #expect(effects.sent[peer]?.control?.iwant == [.init(messageIDs: [unknown])])
    }

    @Test("IHAVE beyond the per-heartbeat message and ID limits is not followed")
    func ihaveLimits() throws {
        var configuration = GossipSubConfiguration()
        configuration.maxIHaveMessages = 3
        configuration.maxIHaveLength = 10
        var harness = try GossipSubRouterMessageTests.subscribed(configuration)
        let peer = fixedPeer(1)
        var requested: [GossipMessageID] = []
        for round in 0..<5 {
            let ids = (0..<4).map { GossipMessageID([UInt8(round), UInt8($0)]) }
            let effects = harness.control(GossipSubControl(ihave: [.init(topic: "t", messageIDs: ids)]), from: peer)
            requested += effects.sent[peer]?.control?.iwant.flatMap(\.messageIDs) ?? []
            if round == 3 {
                #expect(effects.events.contains(.rateLimited(peer, what: "IHAVE messages per heartbeat")))
            }
        }
        #expect(requested.count == 10)  // 4 + 4 + 2 (ID cap), then the message cap
        #expect(Set(requested).count == 10)
        _ = harness.heartbeat()
        let fresh = harness.control(
            GossipSubControl(ihave: [.init(topic: "t", messageIDs: [GossipMessageID([99])])]),
            from: peer
        )
        #expect(fresh.sent[peer]?.control?.iwant == [.init(messageIDs: [GossipMessageID([99])])])
    }

    @Test("IWANT is served from the message cache at most gossipRetransmission times per peer")
    func iwantRetransmission() throws {
        var harness = try GossipSubRouterMessageTests.subscribed()
        let (id, _) = try harness.publish("t", "wanted")
        let peer = fixedPeer(3)
        var served = 0
        for _ in 0..<5 {
            let effects = harness.control(
                GossipSubControl(iwant: [.init(messageIDs: [id, GossipMessageID([1])])]),
                from: peer
            )
            served += effects.sent[peer]?.messages.count ?? 0
        }
        #expect(served == 3)
        let other = harness.control(GossipSubControl(iwant: [.init(messageIDs: [id])]), from: fixedPeer(4))
        #expect(other.sent[fixedPeer(4)]?.messages.count == 1)
    }

    @Test("An IWANT flood is cut at the per-peer, per-heartbeat reply limit")
    func iwantFlood() throws {
        var configuration = GossipSubConfiguration()
        configuration.maxIWantReplies = 5
        var harness = try GossipSubRouterMessageTests.subscribed(configuration)
        var ids: [GossipMessageID] = []
        for n in 0..<8 {
            ids.append(try harness.publish("t", "m\(n)").id)
        }
        let peer = fixedPeer(3)
        let effects = harness.control(GossipSubControl(iwant: [.init(messageIDs: ids)]), from: peer)
        #expect(effects.sent[peer]?.messages.count == 5)
        #expect(effects.events.contains(.rateLimited(peer, what: "IWANT replies per heartbeat")))
        #expect(harness.control(GossipSubControl(iwant: [.init(messageIDs: ids)]), from: peer).sent.isEmpty)
        _ = harness.heartbeat()
        let next = harness.control(GossipSubControl(iwant: [.init(messageIDs: Array(ids.suffix(3)))]), from: peer)
        #expect(next.sent[peer]?.messages.count == 3)
    }

    @Test("A peer that does not deliver a message it advertised gets a behaviour penalty")
    func brokenPromise() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()
        var harness = try GossipSubRouterMessageTests.subscribed(configuration)
        let liar = fixedPeer(1)
        let honest = fixedPeer(2)
        let message = signedMessage("t", "promised", author: 2)
        _ = harness.control(
            GossipSubControl(ihave: [.init(topic: "t", messageIDs: [GossipMessageID([1, 2, 3])])]),
            from: liar
        )
        _ = harness.control(
            GossipSubControl(ihave: [.init(topic: "t", messageIDs: [messageID(message)])]),
            from: honest
        )
        _ = harness.receive(GossipSubRPC(messages: [message]), from: honest)
        _ = harness.heartbeat(after: 2)
        #expect(harness.router.score(of: liar) == 0)
        _ = harness.heartbeat(after: 1.5)
        #expect(harness.router.score(of: liar) < 0)
        #expect(harness.router.score(of: honest) >= 0)
    }

    @Test("Subscriptions beyond the per-peer topic cap are dropped")
    func subscriptionSpam() throws {
        var configuration = GossipSubConfiguration()
        configuration.maxTopicsPerPeer = 5
        var harness = try RouterHarness(configuration: configuration)
        let peer = fixedPeer(1)
        _ = harness.router.peerConnected(peer, outbound: false)
        let spam = (0..<50).map { GossipSubRPC.Subscription(subscribe: true, topic: "topic-\($0)") }
        let effects = harness.receive(GossipSubRPC(subscriptions: spam), from: peer)
        #expect(harness.router.topics(of: peer).count == 5)
        #expect(effects.events.contains(.rateLimited(peer, what: "more than 5 subscriptions")))
        _ = harness.receive(GossipSubRPC(subscriptions: [.init(subscribe: false, topic: "topic-0")]), from: peer)
        _ = harness.receive(GossipSubRPC(subscriptions: [.init(subscribe: true, topic: "topic-49")]), from: peer)
        #expect(harness.router.topics(of: peer).contains("topic-49"))
    }

    @Test("RPCs from unknown peers are ignored; undecodable RPCs cost a behaviour penalty")
    func unknownAndUndecodable() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()
        var harness = try GossipSubRouterMessageTests.subscribed(configuration)
        let stranger = fixedPeer(99)
        let effects = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: stranger)
        #expect(effects.sent.isEmpty)
        #expect(!harness.router.meshPeers("t").contains(stranger))
        let peer = fixedPeer(1)
        let error = GossipSubError(.malformedRPC, "test")
        _ = harness.router.rpcDecodingFailed(from: peer, error: error)
        _ = harness.router.rpcDecodingFailed(from: peer, error: error)
        #expect(harness.router.score(of: peer) == -4)
    }
}
