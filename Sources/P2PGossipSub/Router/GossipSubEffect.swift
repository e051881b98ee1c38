public import P2PCore

/// What the router asks its driver to do. The driver carries effects out in order.
public enum GossipSubEffect: Hashable, Sendable {
    /// Send `rpc` to `peer` (encode it with ``GossipSubRPC/writeFrames(into:maxFrameSize:)``).
    case send(GossipSubRPC, to: PeerID)
    /// Run the application's validator on a new message, then call
    /// ``GossipSubRouter/validationCompleted(messageID:result:now:)``.
    case validate(GossipMessage, id: GossipMessageID, source: PeerID)
    /// Hand an accepted message on a subscribed topic to the application.
    case deliver(GossipMessage, id: GossipMessageID, source: PeerID)
    /// Something worth reporting happened.
    case event(GossipSubEvent)
}

/// The result of the application's validation of a message (gossipsub v1.1 extended validation).
public enum GossipSubValidationResult: Hashable, Sendable {
    /// Valid: deliver and forward it.
    case accept
    /// Invalid: drop it and penalise the senders (P₄).
    case reject
    /// Not wanted but not malicious: drop it without penalty.
    case ignore
}

/// Notable things the router observed.
public enum GossipSubEvent: Hashable, Sendable {
    /// A peer joined a topic.
    case peerSubscribed(PeerID, topic: String)
    /// A peer left a topic.
    case peerUnsubscribed(PeerID, topic: String)
    /// A peer was added to our mesh for a topic.
    case grafted(PeerID, topic: String)
    /// A peer was removed from our mesh for a topic.
    case pruned(PeerID, topic: String)
    /// A PRUNE offered peers for a topic; the driver may connect to them.
    case peerExchange(topic: String, peers: [PeerID], signedPeerRecords: [PeerID: [UInt8]])
    /// A message from a peer was dropped for breaking the rules (signature policy, bad signature).
    case messageRejected(from: PeerID, topic: String, reason: GossipSubError)
    /// A whole RPC from a peer was ignored (unknown or graylisted peer).
    case rpcIgnored(from: PeerID, reason: String)
    /// A peer exceeded a rate limit (IHAVE, IWANT or subscriptions); the excess was dropped.
    case rateLimited(PeerID, what: String)
    /// A peer grafted while in backoff; it was penalised and pruned again.
    case graftDuringBackoff(PeerID, topic: String)
}
