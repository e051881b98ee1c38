// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.0.md#control-messages
// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#prune-backoff-and-peer-exchange

/// The gossipsub `ControlMessage`: IHAVE, IWANT, GRAFT, PRUNE and (v1.2, parsed but ignored) IDONTWANT.
public struct GossipSubControl: Hashable, Sendable {
    /// "I have these messages" gossip for one topic.
    public struct IHave: Hashable, Sendable {
        /// The topic the messages were published on.
        public var topic: String
        /// The advertised message IDs.
        public var messageIDs: [GossipMessageID]

        /// Creates an IHAVE.
        public init(topic: String, messageIDs: [GossipMessageID]) {
            self.topic = topic
            self.messageIDs = messageIDs
        }
    }

    /// A request for full messages previously advertised with IHAVE.
    public struct IWant: Hashable, Sendable {
        /// The requested message IDs.
        public var messageIDs: [GossipMessageID]

        /// Creates an IWANT.
        public init(messageIDs: [GossipMessageID]) {
            self.messageIDs = messageIDs
        }
    }

    /// A request to be added to the receiver's mesh for a topic.
    public struct Graft: Hashable, Sendable {
        /// The topic.
        public var topic: String

        /// Creates a GRAFT.
        public init(topic: String) {
            self.topic = topic
        }
    }

    /// A peer offered in a PRUNE (peer exchange).
    public struct PeerInfo: Hashable, Sendable {
        /// The peer ID bytes.
        public var peerID: [UInt8]?
        /// A signed peer record (an envelope), if the sender has one.
        public var signedPeerRecord: [UInt8]?

        /// Creates a peer-exchange entry.
        public init(peerID: [UInt8]?, signedPeerRecord: [UInt8]? = nil) {
            self.peerID = peerID
            self.signedPeerRecord = signedPeerRecord
        }
    }

    /// A notice that the sender removed the receiver from its mesh for a topic.
    public struct Prune: Hashable, Sendable {
        /// The topic.
        public var topic: String
        /// Other peers the receiver may connect to instead (v1.1 peer exchange).
        public var peers: [PeerInfo]
        /// Seconds the receiver must wait before grafting again (v1.1), if given.
        public var backoff: UInt64?

        /// Creates a PRUNE.
        public init(topic: String, peers: [PeerInfo] = [], backoff: UInt64? = nil) {
            self.topic = topic
            self.peers = peers
            self.backoff = backoff
        }
    }

    /// "Do not send me these messages" (gossipsub v1.2). Parsed but not acted upon.
    public struct IDontWant: Hashable, Sendable {
        /// The message IDs.
        public var messageIDs: [GossipMessageID]

        /// Creates an IDONTWANT.
        public init(messageIDs: [GossipMessageID]) {
            self.messageIDs = messageIDs
        }
    }

    /// IHAVE entries (field 1).
    public var ihave: [IHave]
    /// IWANT entries (field 2).
    public var iwant: [IWant]
    /// GRAFT entries (field 3).
    public var graft: [Graft]
    /// PRUNE entries (field 4).
    public var prune: [Prune]
    /// IDONTWANT entries (field 5).
    public var idontwant: [IDontWant]

    /// Creates a control message.
    public init(
        ihave: [IHave] = [],
        iwant: [IWant] = [],
        graft: [Graft] = [],
        prune: [Prune] = [],
        idontwant: [IDontWant] = []
    ) {
        self.ihave = ihave
        self.iwant = iwant
        self.graft = graft
        self.prune = prune
        self.idontwant = idontwant
    }

    /// Whether the control message has no entries.
    public var isEmpty: Bool {
        self.ihave.isEmpty && self.iwant.isEmpty && self.graft.isEmpty && self.prune.isEmpty
            && self.idontwant.isEmpty
    }
}
