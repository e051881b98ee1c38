import NIOCore
import P2PCore
import P2PGossipSub
import TestSupport

/// Builds a router and feeds it peers, in the style of rust-libp2p's gossipsub behaviour tests.
struct RouterHarness {
    var router: GossipSubRouter
    var rng: SplitMix64
    var now = at(0)

    static let localKey = fixedKey(200)

    init(configuration: GossipSubConfiguration = GossipSubConfiguration(), seed: UInt64 = 1) throws {
        self.router = try GossipSubRouter(localKey: Self.localKey, configuration: configuration)
        self.rng = SplitMix64(seed: seed)
    }

    /// Connects peers `range` (keys `fixedKey(n)`), each subscribed to `topics`.
    @discardableResult
    mutating func addPeers(
        _ range: ClosedRange<UInt8>,
        topics: [String],
        outbound: Bool = false,
        colocationKey: String? = nil
    ) -> [PeerID] {
        var added: [PeerID] = []
        for n in range {
            let peer = fixedPeer(n)
            _ = self.router.peerConnected(peer, outbound: outbound, colocationKey: colocationKey)
            let subscriptions = topics.map { GossipSubRPC.Subscription(subscribe: true, topic: $0) }
            _ = self.receive(GossipSubRPC(subscriptions: subscriptions), from: peer)
            added.append(peer)
        }
        return added
    }

    mutating func receive(_ rpc: GossipSubRPC, from peer: PeerID) -> [GossipSubEffect] {
        self.router.rpcReceived(from: peer, rpc, now: self.now, rng: &self.rng)
    }

    mutating func control(_ control: GossipSubControl, from peer: PeerID) -> [GossipSubEffect] {
        self.receive(GossipSubRPC(control: control), from: peer)
    }

    mutating func subscribe(_ topic: String) -> [GossipSubEffect] {
        self.router.subscribe(topic, now: self.now, rng: &self.rng)
    }

    mutating func heartbeat(after seconds: Double = 1) -> [GossipSubEffect] {
        self.now = self.now + .nanoseconds(Int64(seconds * 1_000_000_000))
        return self.router.heartbeat(now: self.now, rng: &self.rng)
    }

    mutating func publish(_ topic: String, _ data: String) throws -> (id: GossipMessageID, effects: [GossipSubEffect]) {
        try self.router.publish(topic: topic, data: Array(data.utf8), now: self.now, rng: &self.rng)
    }

    mutating func validate(_ id: GossipMessageID, _ result: GossipSubValidationResult) -> [GossipSubEffect] {
        self.router.validationCompleted(messageID: id, result: result, now: self.now)
    }
}

/// A message on `topic` signed by `fixedKey(author)`.
func signedMessage(_ topic: String, _ data: String, author: UInt8, seqno: UInt64 = 1) -> GossipMessage {
    try! GossipMessage.make(
        topic: topic,
        data: Array(data.utf8),
        policy: .strictSign,
        key: fixedKey(author),
        seqno: seqno
    )
}

func messageID(_ message: GossipMessage) -> GossipMessageID {
    GossipSubMessageIDFunction.fromAndSeqno.messageID(of: message)
}

extension Array where Element == GossipSubEffect {
    /// The RPC sent to each peer.
    var sent: [PeerID: GossipSubRPC] {
        var result: [PeerID: GossipSubRPC] = [:]
        for case .send(let rpc, let peer) in self {
            precondition(result[peer] == nil, "the router sent two RPCs to one peer in one call")
            result[peer] = rpc
        }
        return result
    }

    var events: [GossipSubEvent] {
        self.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }

    /// Peers sent a GRAFT for `topic`.
    func grafted(_ topic: String) -> Set<PeerID> {
        Set(self.sent.filter { $0.value.control?.graft.contains(.init(topic: topic)) == true }.keys)
    }

    /// PRUNEs for `topic`, by peer.
    func prunes(_ topic: String) -> [PeerID: GossipSubControl.Prune] {
        var result: [PeerID: GossipSubControl.Prune] = [:]
        for (peer, rpc) in self.sent {
            if let prune = rpc.control?.prune.first(where: { $0.topic == topic }) {
                result[peer] = prune
            }
        }
        return result
    }

    /// Peers sent `message`.
    func recipients(of message: GossipMessage) -> Set<PeerID> {
        Set(self.sent.filter { $0.value.messages.contains(message) }.keys)
    }

    var validations: [GossipMessageID] {
        self.compactMap { if case .validate(_, let id, _) = $0 { id } else { nil } }
    }

    var deliveries: [GossipMessageID] {
        self.compactMap { if case .deliver(_, let id, _) = $0 { id } else { nil } }
    }
}
