import Foundation
public import Logging
public import P2PCore
import P2PGossipSub
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
        /// The mDNS UDP port: 5353 everywhere but in tests that want a group of their own.
        public var mdnsPort: Int

        /// Options.
        public init(
            listenAddresses: [Multiaddr],
            maxConnections: Int,
            mdns: Bool,
            parameters: NetworkParameters,
            mdnsPort: Int = 5353
        ) {
            self.listenAddresses = listenAddresses
            self.maxConnections = maxConnections
            self.mdns = mdns
            self.parameters = parameters
            self.mdnsPort = mdnsPort
        }
    }

    private struct State {
        var callbacks: PrivacyTransportCallbacks?
        var tasks: [Task<Void, Never>] = []
        var mdns: MDNSDiscovery?
        var roundTrips: [PeerID: Duration] = [:]
    }

    /// Our peer ID for this session.
    public let localPeerID: PeerID
    private let host: LibP2PHost
    private let gossip: GossipSubService
    private let stemValidator: SharedReportValidator
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
        var gossipConfiguration = GossipSubServiceConfiguration()
        // privacy-design.md, "Envelope": StrictNoSign, message id = SHA-256 of the data (the policy's default).
        gossipConfiguration.router.topics[PrivacyNetworkProtocol.reportTopic] = GossipSubTopicConfiguration(
            signaturePolicy: .strictNoSign
        )
        self.gossip = try GossipSubService(
            host: self.host,
            identity: identity,
            configuration: gossipConfiguration,
            consumesHostEvents: false,
            logger: logger
        )
        self.stemValidator = SharedReportValidator(parameters: options.parameters)
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
        let gossip = self.gossip
        let topic = PrivacyNetworkProtocol.reportTopic
        gossip.setValidator(topic: topic) { message in
            switch await callbacks.admit(message.data, message.propagationSource) {
            case .accept: .accept
            case .reject: .reject
            case .ignore: .ignore
            }
        }
        // The stem relay, one hop: a valid stem message is admitted here and published into gossip at once.
        // (The full Dandelion++ route, StemRelayStateMachine, is not driven yet.)
        let schedule = self.options.parameters.schedule
        self.host.setHandler(
            protocol: PrivacyNetworkProtocol.stem,
            handler: StemProtocol.handler(
                validator: self.stemValidator,
                currentEpoch: { (try? schedule.epoch(containing: Date())) ?? 0 },
                onInbound: { inbound in
                    switch inbound {
                    case .accepted(let envelope, _, let from):
                        let bytes = envelope.encode()
                        if await callbacks.admit(bytes, from) != .reject {
                            _ = try? await gossip.publish(topic: topic, data: bytes)
                        }
                    case .rejected(let reason, let from):
                        continuation.yield(.error("bad stem message from \(from): \(reason)"))
                    case .duplicate:
                        break
                    }
                }
            )
        )
        try await self.host.start()
        let subscription = await gossip.subscribe(topic)
        let hostEvents = self.host.events
        // Bridges, awaited by shutdown(): GossipSub runs until cancelled; the subscription is drained (messages
        // were already admitted by the validator); host events are mapped until the host shuts down.
        let running = Task { _ = try? await gossip.run() }
        let draining = Task {
            for await _ in subscription {}
        }
        let task = Task {
            for await event in hostEvents {
                await gossip.hostEventReceived(event)
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
        self.state.withLock { $0.tasks = [task, running, draining] }
        if self.options.mdns {
            await self.startMDNS(continuation)
        }
        return stream
    }

    /// Starts mDNS for the host (only after consent: the transport exists only then) and passes every peer it
    /// finds to the network's discovery as learned addresses. A failure to open the multicast socket is reported
    /// as an error event; the node keeps working with its other discovery sources.
    private func startMDNS(_ continuation: AsyncStream<PrivacyTransportEvent>.Continuation) async {
        let discovery: MDNSDiscovery
        do {
            discovery = try MDNSDiscovery(
                host: self.host,
                configuration: Self.mdnsConfiguration(
                    listenAddresses: self.options.listenAddresses,
                    port: self.options.mdnsPort
                ),
                logger: self.logger
            )
            try await discovery.start()
        } catch {
            continuation.yield(.error("mDNS discovery is off: \(error)"))
            return
        }
        let forwarding = Task {
            for await peer in discovery.discovered {
                let addresses = Self.dialableAddresses(of: peer)
                if !addresses.isEmpty {
                    continuation.yield(.addressesLearned(addresses, from: nil))
                }
            }
        }
        self.state.withLock { state in
            state.mdns = discovery
            state.tasks.append(forwarding)
        }
    }

    /// mDNS settings for a node listening on `listenAddresses`: when every one is a loopback address (tests, two
    /// terminals on one machine) the group is joined on 127.0.0.1 and loopback addresses are advertised; otherwise
    /// the spec's defaults (the default route's interface, LAN addresses only).
    static func mdnsConfiguration(listenAddresses: [Multiaddr], port: Int) -> MDNSConfiguration {
        let loopbackOnly = !listenAddresses.isEmpty && listenAddresses.allSatisfy(Self.isLoopback)
        return loopbackOnly
            ? MDNSConfiguration(port: port, interfaceAddress: "127.0.0.1", advertiseLoopback: true)
            : MDNSConfiguration(port: port)
    }

    /// Whether `address` starts with an IPv4 loopback address (127.0.0.0/8; the loopback group is IPv4).
    static func isLoopback(_ address: Multiaddr) -> Bool {
        guard case .ip4(let ip) = address.components.first else { return false }
        return ip.value >> 24 == 127
    }

    /// A discovered peer's addresses, each ending in `/p2p/<its id>` as discovery expects; addresses naming another
    /// peer are dropped.
    static func dialableAddresses(of peer: DiscoveredPeer) -> [Multiaddr] {
        peer.addresses.compactMap { address in
            if let named = address.peerID, named != peer.peerID { return nil }
            return address.removingPeerID().appending(.p2p(peer.peerID))
        }
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
        let times = try await self.host.ping(peer)
        if let last = times.last {
            self.state.withLock { $0.roundTrips[peer] = last }
        }
    }

    public func pingRoundTrips() async -> [PeerID: Duration] {
        let connected = Set(self.host.connectedPeers)
        return self.state.withLock { state in
            state.roundTrips = state.roundTrips.filter { connected.contains($0.key) }
            return state.roundTrips
        }
    }

    public func relay(_ envelope: [UInt8]) async throws {
        let report = try ReportEnvelope(decoding: envelope)
        // Our own report goes to one connected peer (the stem); it is never published by us first. Only if no
        // peer takes it is it published by us (the embargo's fallback).
        for peer in self.host.connectedPeers.shuffled() {
            do {
                try await StemProtocol.send(report, to: peer, on: self.host)
                return
            } catch {
                self.logger.debug("stem send failed", metadata: ["p2p.peer": "\(peer)"])
            }
        }
        try await self.publish(envelope)
    }

    public func publish(_ envelope: [UInt8]) async throws {
        try await self.gossip.publish(topic: PrivacyNetworkProtocol.reportTopic, data: envelope)
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
        let tasks = self.state.withLock { state in
            defer {
                state.tasks = []
                state.callbacks = nil
            }
            return state.tasks
        }
        let mdns = self.state.withLock { state in
            defer { state.mdns = nil }
            return state.mdns
        }
        await mdns?.stop()
        for task in tasks.dropFirst() {
            task.cancel()
        }
        await self.gossip.unsubscribe(PrivacyNetworkProtocol.reportTopic)
        await self.host.shutdown()
        for task in tasks {
            await task.value
        }
    }
}
