import NIOCore
import P2PCore
import P2PGossipSub
import Testing

@Suite("GossipSub router: mesh, GRAFT/PRUNE, backoff")
struct GossipSubRouterMeshTests {
    @Test("Subscribing announces the topic to every peer and grafts D of the topic's peers")
    func subscribeBuildsMesh() throws {
        var harness = try RouterHarness()
        let topicPeers = harness.addPeers(1...20, topics: ["t"])
        let others = harness.addPeers(21...23, topics: ["other"])
        let effects = harness.subscribe("t")
        let mesh = harness.router.meshPeers("t")
        #expect(mesh.count == 6)
        #expect(mesh.isSubset(of: Set(topicPeers)))
        #expect(effects.grafted("t") == mesh)
        for peer in topicPeers + others {
            #expect(effects.sent[peer]?.subscriptions == [.init(subscribe: true, topic: "t")])
        }
        #expect(effects.events.filter { if case .grafted = $0 { true } else { false } }.count == 6)
        #expect(harness.subscribe("t").isEmpty)
    }

    @Test("A new peer gets our subscriptions in its first RPC")
    func helloCarriesSubscriptions() throws {
        var harness = try RouterHarness()
        _ = harness.subscribe("b")
        _ = harness.subscribe("a")
        let effects = harness.router.peerConnected(fixedPeer(1), outbound: true)
        #expect(
            effects.sent[fixedPeer(1)]?.subscriptions == [
                .init(subscribe: true, topic: "a"), .init(subscribe: true, topic: "b"),
            ]
        )
    }

    @Test("The same seed gives the same mesh; another seed may differ but keeps the size")
    func deterministic() throws {
        func mesh(seed: UInt64) throws -> Set<PeerID> {
            var harness = try RouterHarness(seed: seed)
            harness.addPeers(1...30, topics: ["t"])
            _ = harness.subscribe("t")
            return harness.router.meshPeers("t")
        }
        #expect(try mesh(seed: 42) == mesh(seed: 42))
        #expect(try mesh(seed: 43).count == 6)
    }

    @Test("A GRAFT for a subscribed topic joins the mesh; one for an unknown topic is ignored without PRUNE")
    func graftHandling() throws {
        var harness = try RouterHarness()
        let peers = harness.addPeers(1...2, topics: ["t", "x"])
        _ = harness.subscribe("t")
        let outsider = fixedPeer(50)
        _ = harness.router.peerConnected(outsider, outbound: false)
        let joined = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: outsider)
        #expect(harness.router.meshPeers("t").contains(outsider))
        #expect(joined.events.contains(.grafted(outsider, topic: "t")))
        let unknown = harness.control(GossipSubControl(graft: [.init(topic: "x")]), from: peers[0])
        #expect(unknown.sent.isEmpty)
        #expect(harness.router.meshPeers("x").isEmpty)
    }

    @Test("A GRAFT during backoff is penalised and answered with PRUNE; the backoff is renewed")
    func graftDuringBackoff() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        #expect(harness.router.meshPeers("t") == [peer])
        // The peer prunes us: both sides back off for 60 s.
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t", backoff: 60)]), from: peer)
        #expect(harness.router.meshPeers("t").isEmpty)
        #expect(harness.router.isBackedOff(peer, topic: "t", now: harness.now))
        #expect(harness.router.score(of: peer) == 0)
        harness.now = harness.now + .seconds(15)
        let effects = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peer)
        #expect(effects.events.contains(.graftDuringBackoff(peer, topic: "t")))
        #expect(effects.prunes("t")[peer]?.backoff == 60)
        #expect(effects.prunes("t")[peer]?.peers == [])
        #expect(!harness.router.meshPeers("t").contains(peer))
        // Behaviour penalty of 1 (and not the flood penalty: 45 s were left, more than 60 − 10).
        #expect(harness.router.score(of: peer) == -1)
        #expect(harness.router.isBackedOff(peer, topic: "t", now: harness.now + .seconds(59)))
        #expect(!harness.router.isBackedOff(peer, topic: "t", now: harness.now + .seconds(61)))
    }

    @Test("A GRAFT flood during backoff (1,000 entries in one RPC) gets one PRUNE and one round of penalties")
    func graftFloodDuringBackoff() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t", backoff: 60)]), from: peer)
        harness.now = harness.now + .seconds(15)
        let flood = GossipSubControl(graft: Array(repeating: .init(topic: "t"), count: 1000))
        let effects = harness.control(flood, from: peer)
        let sent = try #require(effects.sent[peer]?.control)
        #expect(sent.prune.count == 1)
        #expect(effects.events.filter { $0 == .graftDuringBackoff(peer, topic: "t") }.count == 1)
        #expect(harness.router.score(of: peer) == -1)
        #expect(!harness.router.meshPeers("t").contains(peer))
        // The router keeps serving: another peer's GRAFT is accepted.
        let other = harness.addPeers(2...2, topics: ["t"])[0]
        _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: other)
        #expect(harness.router.meshPeers("t").contains(other))
    }

    @Test("A GRAFT within the flood threshold after our PRUNE costs two penalty points")
    func graftFlood() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        _ = harness.router.unsubscribe("t", now: harness.now)
        _ = harness.subscribe("t")  // the peer is backed off (10 s): not grafted
        #expect(harness.router.meshPeers("t").isEmpty)
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t", backoff: 60)]), from: peer)
        harness.now = harness.now + .seconds(1)
        _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peer)
        // Penalty 2 → P₇ = −(2²).
        #expect(harness.router.score(of: peer) == -4)
    }

    @Test("A PRUNE's backoff keeps the heartbeat from re-grafting until it expires, plus one heartbeat of slack")
    func pruneBackoffRespected() throws {
        var configuration = GossipSubConfiguration()
        configuration.meshDegreeLow = 1
        configuration.meshDegree = 2
        configuration.outboundDegree = 0
        configuration.scoreDegree = 1
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t", backoff: 30)]), from: peer)
        for _ in 0..<29 {
            #expect(harness.heartbeat().grafted("t").isEmpty)
        }
        // One heartbeat of slack after the backoff ends (t = 30) before we graft again.
        #expect(harness.heartbeat(after: 1.5).grafted("t").isEmpty)  // t = 30.5
        let later = harness.heartbeat(after: 0.5)  // t = 31
        #expect(later.grafted("t") == [peer])
        #expect(harness.router.meshPeers("t") == [peer])
    }

    @Test("A huge PRUNE backoff from a peer is capped instead of overflowing")
    func hugeBackoff() throws {
        var harness = try RouterHarness()
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        _ = harness.control(GossipSubControl(prune: [.init(topic: "t", backoff: .max)]), from: peer)
        #expect(harness.router.isBackedOff(peer, topic: "t", now: harness.now + .hours(23)))
        #expect(!harness.router.isBackedOff(peer, topic: "t", now: harness.now + .hours(25)))
    }

    @Test("A PRUNE for a topic we are not in changes nothing")
    func pruneForUnknownTopic() throws {
        var harness = try RouterHarness()
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        let infos = [GossipSubControl.PeerInfo(peerID: fixedPeer(60).bytes)]
        let effects = harness.control(
            GossipSubControl(prune: [.init(topic: "t", peers: infos, backoff: 600)]),
            from: peer
        )
        #expect(effects.isEmpty)
        #expect(!harness.router.isBackedOff(peer, topic: "t", now: harness.now))
    }

    @Test("Peer exchange in a PRUNE is reported, without us or duplicates, when the pruner's score allows it")
    func peerExchangeAccepted() throws {
        var harness = try RouterHarness()
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        let offered = [
            fixedPeer(60), fixedPeer(61), fixedPeer(60), PeerID(publicKey: RouterHarness.localKey.publicKey),
        ]
        let infos =
            offered.map { GossipSubControl.PeerInfo(peerID: $0.bytes, signedPeerRecord: [1]) }
            + [GossipSubControl.PeerInfo(peerID: [0xFF]), GossipSubControl.PeerInfo(peerID: nil)]
        let effects = harness.control(
            GossipSubControl(prune: [.init(topic: "t", peers: infos, backoff: 60)]),
            from: peer
        )
        #expect(
            effects.events.contains(
                .peerExchange(
                    topic: "t",
                    peers: [fixedPeer(60), fixedPeer(61)],
                    signedPeerRecords: [fixedPeer(60): [1], fixedPeer(61): [1]]
                )
            )
        )
    }

    @Test("Peer exchange from a peer below the accept-PX threshold is dropped")
    func peerExchangeRefused() throws {
        var configuration = GossipSubConfiguration()
        configuration.scoring = GossipSubScoreParameters()  // accept-PX threshold 10, score 0
        var harness = try RouterHarness(configuration: configuration)
        let peer = harness.addPeers(1...1, topics: ["t"])[0]
        _ = harness.subscribe("t")
        let infos = [GossipSubControl.PeerInfo(peerID: fixedPeer(60).bytes)]
        let effects = harness.control(GossipSubControl(prune: [.init(topic: "t", peers: infos)]), from: peer)
        #expect(!effects.events.contains { if case .peerExchange = $0 { true } else { false } })
        harness.router.setApplicationScore(peer, 20)
        let accepted = harness.control(GossipSubControl(prune: [.init(topic: "t", peers: infos)]), from: peer)
        #expect(accepted.events.contains { if case .peerExchange = $0 { true } else { false } })
    }

    @Test("Heartbeat grafts up to D when the mesh is below D_lo")
    func heartbeatGrafts() throws {
        var harness = try RouterHarness()
        _ = harness.subscribe("t")
        let peers = harness.addPeers(1...10, topics: ["t"])
        #expect(harness.router.meshPeers("t").isEmpty)
        let effects = harness.heartbeat()
        #expect(harness.router.meshPeers("t").count == 6)
        #expect(effects.grafted("t") == harness.router.meshPeers("t"))
        #expect(harness.router.meshPeers("t").isSubset(of: Set(peers)))
    }

    @Test("Heartbeat prunes an oversubscribed mesh to D with backoff and peer exchange, keeping D_out outbound peers")
    func heartbeatPrunes() throws {
        var harness = try RouterHarness()
        _ = harness.subscribe("t")
        let inbound = harness.addPeers(1...13, topics: ["t"])
        let outbound = harness.addPeers(14...15, topics: ["t"], outbound: true)
        for peer in inbound + outbound {
            _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peer)
        }
        // The 13th inbound GRAFT hit D_hi and was refused; outbound GRAFTs are always taken.
        let before = harness.router.meshPeers("t")
        #expect(before.count == 14)
        let effects = harness.heartbeat()
        let mesh = harness.router.meshPeers("t")
        #expect(mesh.count == 6)
        #expect(Set(outbound).isSubset(of: mesh))
        let prunes = effects.prunes("t")
        #expect(Set(prunes.keys) == before.subtracting(mesh))
        #expect(prunes.count == 8)
        for (peer, prune) in prunes {
            #expect(prune.backoff == 60)
            #expect(!prune.peers.isEmpty && prune.peers.count <= 16)
            #expect(!prune.peers.contains(.init(peerID: peer.bytes)))
            #expect(harness.router.isBackedOff(peer, topic: "t", now: harness.now))
        }
    }

    @Test("Heartbeat tops up outbound peers when the mesh is full of inbound ones")
    func outboundQuota() throws {
        var harness = try RouterHarness()
        _ = harness.subscribe("t")
        let inbound = harness.addPeers(1...6, topics: ["t"])
        let outbound = harness.addPeers(20...22, topics: ["t"], outbound: true)
        for peer in inbound {
            _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peer)
        }
        let effects = harness.heartbeat()
        #expect(effects.grafted("t").count == 2)
        #expect(effects.grafted("t").isSubset(of: Set(outbound)))
        #expect(harness.router.meshPeers("t").count == 8)
    }

    @Test("An inbound GRAFT to a full mesh (D_hi) is refused with PRUNE and peer exchange; an outbound one is accepted")
    func graftToFullMesh() throws {
        var harness = try RouterHarness()
        _ = harness.subscribe("t")
        let peers = harness.addPeers(1...12, topics: ["t"])
        for peer in peers {
            _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peer)
        }
        let late = harness.addPeers(30...30, topics: ["t"])[0]
        let refused = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: late)
        #expect(refused.prunes("t")[late]?.peers.count == 12)
        #expect(!harness.router.meshPeers("t").contains(late))
        let dialed = harness.addPeers(31...31, topics: ["t"], outbound: true)[0]
        _ = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: dialed)
        #expect(harness.router.meshPeers("t").contains(dialed))
    }

    @Test("A bootstrapper (D = D_lo = D_hi = D_out = D_score = 0) keeps no mesh and answers GRAFT with PRUNE and PX")
    func bootstrapper() throws {
        var configuration = GossipSubConfiguration()
        configuration.meshDegree = 0
        configuration.meshDegreeLow = 0
        configuration.meshDegreeHigh = 0
        configuration.outboundDegree = 0
        configuration.scoreDegree = 0
        var harness = try RouterHarness(configuration: configuration)
        let peers = harness.addPeers(1...5, topics: ["t"])
        _ = harness.subscribe("t")
        #expect(harness.router.meshPeers("t").isEmpty)
        let effects = harness.control(GossipSubControl(graft: [.init(topic: "t")]), from: peers[0])
        #expect(effects.prunes("t")[peers[0]]?.peers.count == 4)
        #expect(harness.heartbeat().grafted("t").isEmpty)
        #expect(harness.router.meshPeers("t").isEmpty)
    }

    @Test("Unsubscribing prunes the mesh with the unsubscribe backoff and announces it")
    func unsubscribe() throws {
        var harness = try RouterHarness()
        let peers = harness.addPeers(1...3, topics: ["t"])
        _ = harness.subscribe("t")
        let effects = harness.router.unsubscribe("t", now: harness.now)
        for peer in peers {
            #expect(effects.sent[peer]?.subscriptions == [.init(subscribe: false, topic: "t")])
            #expect(effects.prunes("t")[peer]?.backoff == 10)
            #expect(harness.router.isBackedOff(peer, topic: "t", now: harness.now + .seconds(9)))
            #expect(!harness.router.isBackedOff(peer, topic: "t", now: harness.now + .seconds(10)))
        }
        #expect(harness.router.subscribedTopics.isEmpty)
    }

    @Test("Peers that unsubscribe or disconnect leave topic peers and mesh")
    func peersLeave() throws {
        var harness = try RouterHarness()
        let peers = harness.addPeers(1...2, topics: ["t"])
        _ = harness.subscribe("t")
        let left = harness.receive(GossipSubRPC(subscriptions: [.init(subscribe: false, topic: "t")]), from: peers[0])
        #expect(left.events.contains(.peerUnsubscribed(peers[0], topic: "t")))
        #expect(harness.router.topicPeers("t") == [peers[1]])
        #expect(!harness.router.meshPeers("t").contains(peers[0]))
        _ = harness.router.peerDisconnected(peers[1], now: harness.now)
        #expect(harness.router.topicPeers("t").isEmpty)
        #expect(harness.router.meshPeers("t").isEmpty)
        #expect(harness.router.connectedPeers == [peers[0]])
    }

    @Test("Invalid configurations are refused", arguments: 0..<6)
    func configurationChecks(variant: Int) {
        var configuration = GossipSubConfiguration()
        switch variant {
        case 0: configuration.meshDegreeLow = 7
        case 1: configuration.outboundDegree = 5
        case 2: configuration.historyGossip = 6
        case 3: configuration.outboundDegree = -1
        case 4: configuration.gossipFactor = 1.5
        default:
            var scoring = GossipSubScoreParameters()
            scoring.thresholds.publishThreshold = 0
            configuration.scoring = scoring
        }
        #expect(
            errorCode { _ = try GossipSubRouter(localKey: fixedKey(1), configuration: configuration) }
                == .invalidConfiguration
        )
    }
}
