public import Logging
public import P2PCore
import P2PHost
public import PrivacyCore
import Synchronization

/// The production ``PrivacyNetworkTransport``: a ``LibP2PHost`` (TCP, Noise, Yamux, identify, ping) with
/// the community protocols on it. Created only after consent to join; nothing listens before
/// ``start(_:)``.
public final class LibP2PPrivacyTransport: PrivacyNetworkTransport {
    /// What the transport needs besides the identity.
    public struct Options: Sendable {
        /// Addresses to listen on.
        public var listenAddresses: [Multiaddr]
        /// The host's connection limit (the user's `maxConnections`).
        public var maxConnections: Int
        /// Whether to look for peers on the local network with mDNS.
        public var mdns: Bool
        /// The network's parameters.
        public var parameters: NetworkParameters

        /// Options.
        public init(listenAddresses: [Multiaddr], maxConnections: Int, mdns: Bool, parameters: NetworkParameters) {
            self.listenAddresses = listenAddresses
            self.maxConnections = maxConnections
            self.mdns = mdns
            self.parameters = parameters
        }
    }

    private struct State {
        var callbacks: PrivacyTransportCallbacks?
        var eventTask: Task<Void, Never>?
    }

    /// Our peer ID for this session.
    public let localPeerID: PeerID
    private let host: LibP2PHost
    private let options: Options
    private let logger: Logger
    private let state = Mutex(State())

    /// A transport for `identity` (fresh per session unless the user configured a key file).
    public init(identity: PrivateKey, options: Options, logger: Logger) throws {
        self.host = try LibP2PHost(
            identity: identity,
            configuration: HostConfiguration(
                listenAddresses: options.listenAddresses,
                agentVersion: "phantom-trail-community/1",
                maxConnections: max(options.maxConnections * 2, options.maxConnections + 4)
            ),
            logger: logger
        )
        self.localPeerID = self.host.peerID
        self.options = options
        self.logger = logger
    }

    public func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent> {
        self.state.withLock { $0.callbacks = callbacks }
        let (stream, continuation) = AsyncStream<PrivacyTransportEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(4096)
        )
        // Catch-up sync server: answers from the network's admitted reports (never our own unseen ones).
        self.host.setHandler(
            protocol: PrivacyNetworkProtocol.sync,
            handler: SyncProtocol.handler(
                lookup: { request in
                    await callbacks.syncResponse(request.epochs, request.maximumEnvelopes).compactMap {
                        try? ReportEnvelope(decoding: $0)
                    }
                },
                onError: { peer, error in
                    continuation.yield(.error("bad sync request from \(peer): \(error.message)"))
                }
            )
        )
        try await self.host.start()
        let hostEvents = self.host.events
        // A bridge: maps host events until the host's event stream ends (shutdown); shutdown() awaits it.
        let task = Task {
            for await event in hostEvents {
                switch event {
                case .peerConnected(let peer, let direction, _):
                    continuation.yield(.peerConnected(peer, dialedByUs: direction == .outbound))
                case .peerDisconnected(let peer):
                    continuation.yield(.peerDisconnected(peer))
                case .identified(let peer, _, _, let listenAddresses):
                    let addresses = listenAddresses.map { $0.removingPeerID().appending(.p2p(peer)) }
                    continuation.yield(.addressesLearned(addresses, from: peer))
                case .error(let message, _):
                    continuation.yield(.error(message))
                }
            }
            continuation.finish()
        }
        self.state.withLock { $0.eventTask = task }
        return stream
    }

    public func listenAddresses() async -> [Multiaddr] {
        self.host.listenAddresses
    }

    public func dial(_ address: Multiaddr) async throws -> PeerID {
        try await self.host.dial(address)
    }

    public func disconnect(from peer: PeerID) async {
        self.host.disconnect(from: peer)
    }

    public func ping(_ peer: PeerID) async throws {
        _ = try await self.host.ping(peer)
    }

    public func relay(_ envelope: [UInt8]) async throws {
        throw PrivacyNetworkError(.notRunning, "the stem relay is not available in this build")
    }

    public func publish(_ envelope: [UInt8]) async throws {
        throw PrivacyNetworkError(.notRunning, "gossip is not available in this build")
    }

    public func fetchReports(from peer: PeerID, epochs: [UInt32]) async throws -> [[UInt8]] {
        guard let newest = epochs.max() else { return [] }
        // A validator per fetch: the network admits every returned envelope again (dedup, epoch window).
        let result = try await SyncProtocol.fetchReports(
            from: peer,
            on: self.host,
            request: SyncRequest(epochs: Array(Set(epochs)).sorted()),
            validator: SharedReportValidator(parameters: self.options.parameters),
            currentEpoch: newest
        )
        if !result.rejections.isEmpty {
            self.logger.debug(
                "sync: invalid envelopes",
                metadata: ["p2p.peer": "\(peer)", "count": "\(result.rejections.count)"]
            )
        }
        return result.accepted.map { $0.envelope.encode() }
    }

    public func shutdown() async {
        await self.host.shutdown()
        let task = self.state.withLock { state in
            defer {
                state.eventTask = nil
                state.callbacks = nil
            }
            return state.eventTask
        }
        await task?.value
    }
}
