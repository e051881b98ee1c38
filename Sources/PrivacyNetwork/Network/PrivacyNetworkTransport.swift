public import P2PCore
import PrivacyCore

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

    /// Asks `peer` for the envelopes of `epochs` (catch-up sync), verifies every returned envelope like a gossip
    /// message (proof of work included, off the network's actor) and hands the valid ones to `deliver` in batches
    /// as they are verified, so that the statistics grow during a long catch-up. Returns once every batch was
    /// delivered; the network still admits each report (its epoch window and duplicates).
    func fetchReports(
        from peer: PeerID,
        epochs: [UInt32],
        deliver: @escaping @Sendable ([VerifiedReport]) async -> Void
    ) async throws

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
    /// The same decision with the reason of a rejection (the transport logs it and weighs the sender's penalty
    /// by it).
    public var admitExplained: @Sendable (_ envelope: [UInt8], _ from: PeerID?) async -> AdmissionResult
    /// Decides on an envelope whose proof of work the transport already verified (``VerifiedReport``): only the
    /// cheap checks remain, so no scrypt call runs on the network's actor.
    public var admitVerified: @Sendable (_ report: VerifiedReport, _ from: PeerID?) async -> AdmissionResult
    /// The envelopes this node answers a sync request for `epochs` with (at most `limit`).
    public var syncResponse: @Sendable (_ epochs: [UInt32], _ limit: Int) async -> [[UInt8]]

    /// Callbacks whose rejections carry no reason (a verified report is admitted like its bytes).
    public init(
        admit: @escaping @Sendable (_ envelope: [UInt8], _ from: PeerID?) async -> AdmissionVerdict,
        syncResponse: @escaping @Sendable (_ epochs: [UInt32], _ limit: Int) async -> [[UInt8]]
    ) {
        self.admit = admit
        self.admitExplained = { envelope, from in AdmissionResult(verdict: await admit(envelope, from)) }
        self.admitVerified = { report, from in AdmissionResult(verdict: await admit(report.envelope.encode(), from)) }
        self.syncResponse = syncResponse
    }

    /// Callbacks whose rejections say why; a verified report is admitted like its bytes unless `admitVerified` is
    /// given.
    public init(
        admitExplained: @escaping @Sendable (_ envelope: [UInt8], _ from: PeerID?) async -> AdmissionResult,
        admitVerified: (@Sendable (_ report: VerifiedReport, _ from: PeerID?) async -> AdmissionResult)? = nil,
        syncResponse: @escaping @Sendable (_ epochs: [UInt32], _ limit: Int) async -> [[UInt8]]
    ) {
        self.admit = { envelope, from in await admitExplained(envelope, from).verdict }
        self.admitExplained = admitExplained
        self.admitVerified =
            admitVerified ?? { report, from in await admitExplained(report.envelope.encode(), from) }
        self.syncResponse = syncResponse
    }
}

/// An admission verdict with the reason of a rejection.
public struct AdmissionResult: Hashable, Sendable {
    /// Accept, reject or ignore.
    public var verdict: AdmissionVerdict
    /// Why the envelope was rejected (`nil` for accept and ignore, or when the reason is not known).
    public var rejection: ReportRejection?

    /// A result.
    public init(verdict: AdmissionVerdict, rejection: ReportRejection? = nil) {
        self.verdict = verdict
        self.rejection = rejection
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
