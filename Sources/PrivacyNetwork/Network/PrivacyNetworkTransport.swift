public import P2PCore

/// What ``P2PPrivacyNetwork`` needs from the libp2p stack: a seam, so the actor's rules are tested over an
/// in-memory network, and the production transport composes the host, GossipSub, the stem relay and sync.
///
/// A transport is created only after consent to join (``ConsentGate/mayOpenSockets``); creating one may
/// open nothing, ``start(_:)`` opens the sockets.
public protocol PrivacyNetworkTransport: Sendable {
    /// Our peer ID for this session.
    var localPeerID: PeerID { get }

    /// Opens the listeners, registers the protocols and returns the transport's events. `callbacks` are
    /// how inbound reports and sync requests reach the network.
    func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent>

    /// The bound listen addresses (empty before ``start(_:)``).
    func listenAddresses() async -> [Multiaddr]

    /// Dials `address` (ending in `/p2p/<id>`) and returns the peer's ID.
    func dial(_ address: Multiaddr) async throws -> PeerID

    /// Closes every connection to `peer`.
    func disconnect(from peer: PeerID) async

    /// Checks that `peer` is alive (libp2p ping).
    func ping(_ peer: PeerID) async throws

    /// Hands one of our own envelopes to the stem relay (it is never published by us first).
    func relay(_ envelope: [UInt8]) async throws

    /// Publishes an envelope on the report topic (gossip).
    func publish(_ envelope: [UInt8]) async throws

    /// Asks `peer` for the envelopes of `epochs` (catch-up sync); every returned envelope still goes
    /// through admission.
    func fetchReports(from peer: PeerID, epochs: [UInt32]) async throws -> [[UInt8]]

    /// Closes everything. The transport cannot be started again.
    func shutdown() async

    /// The last measured round trip per connected peer (for the dashboard's peers panel).
    func pingRoundTrips() async -> [PeerID: Duration]
}

extension PrivacyNetworkTransport {
    /// No round trips known (transports that do not keep them).
    public func pingRoundTrips() async -> [PeerID: Duration] { [:] }
}

/// How a transport hands inbound traffic to the network.
public struct PrivacyTransportCallbacks: Sendable {
    /// Decides on an inbound envelope (gossip or stem) before it is delivered or forwarded; `from` is the
    /// peer that sent it to us.
    public var admit: @Sendable (_ envelope: [UInt8], _ from: PeerID?) async -> AdmissionVerdict
    /// The envelopes this node answers a sync request for `epochs` with (at most `limit`).
    public var syncResponse: @Sendable (_ epochs: [UInt32], _ limit: Int) async -> [[UInt8]]

    /// Callbacks.
    public init(
        admit: @escaping @Sendable (_ envelope: [UInt8], _ from: PeerID?) async -> AdmissionVerdict,
        syncResponse: @escaping @Sendable (_ epochs: [UInt32], _ limit: Int) async -> [[UInt8]]
    ) {
        self.admit = admit
        self.syncResponse = syncResponse
    }
}

/// The outcome of admitting an inbound envelope (GossipSub's accept/reject/ignore).
public enum AdmissionVerdict: Hashable, Sendable {
    /// Valid and new: deliver and forward.
    case accept
    /// Invalid: drop and penalise the forwarding peer.
    case reject
    /// Valid but already known: drop without penalty.
    case ignore
}

/// Something the transport saw.
public enum PrivacyTransportEvent: Hashable, Sendable {
    /// The first connection to a peer opened.
    case peerConnected(PeerID, dialedByUs: Bool)
    /// The last connection to a peer closed.
    case peerDisconnected(PeerID)
    /// Addresses of other peers learned (identify listen addresses, GossipSub peer exchange, mDNS), each
    /// ending in `/p2p/<id>`.
    case addressesLearned([Multiaddr], from: PeerID?)
    /// Something failed that no caller waits for.
    case error(String)
}
