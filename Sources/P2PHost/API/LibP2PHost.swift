public import Logging
public import NIOCore
import NIOPosix
public import P2PCore
import P2PNoise
import P2PYamux
public import ServiceLifecycle

/// A libp2p host: listens, dials, upgrades every connection (Noise, Yamux), runs identify and ping, and dispatches the
/// peer's streams to the registered protocol handlers.
///
/// Connections travel over its transports (``HostTransport``): TCP by default, or an ``InMemoryNetwork`` for tests and
/// simulations. With an in-memory network on one event loop with virtual time and an ``EventLoopClock`` over that
/// loop as the clock, every timer of the host runs on virtual time.
///
/// Identify push (`/ipfs/id/push/1.0.0`): when our protocols (``setHandler(protocol:handler:)``,
/// ``removeHandler(protocol:)``) or listen addresses (``listen(on:)``) change, connected peers get our new identify
/// message; pushes from peers (size-limited like identify replies, possibly partial) are merged into their record
/// and reported as ``HostEvent/identified(peer:agentVersion:protocols:listenAddresses:)``.
///
/// Use it directly (``start()``, then ``shutdown()``) or as a swift-service-lifecycle `Service` (``run()`` serves
/// until cancelled or a graceful shutdown). ``events`` reports connections, identify results and errors; it has
/// one consumer. There is at most one connection per peer: ``dial(_:)`` reuses it, and when both sides dial at once
/// both keep the same one. With ``HostConfiguration/idleTimeout`` a connection without open streams is closed.
/// Peers marked with ``keepConnected(to:)`` are redialed with exponential backoff and jitter when their connection
/// drops (a ``ConnectionManager`` task, timed by the injected clock).
///
/// Concurrency: shared state (connections, handlers, counters) sits behind one `Mutex` (``LockedState``). One serving
/// task, which ``start()`` creates and ``shutdown()`` awaits, runs every inbound stream's handler as a child task. A
/// connection itself needs no task: its event loop registers it when the upgrade ends, runs identify, and forgets it
/// when it closes.
public final class LibP2PHost: Service, Sendable {
    /// A handler for inbound streams of one protocol. It owns the stream and should close it.
    public typealias StreamHandler = @Sendable (P2PStream) async throws -> Void

    /// Our peer ID.
    public let peerID: PeerID
    /// The settings.
    public let configuration: HostConfiguration
    /// Connection events, identify results and errors. Iterate it from one task only.
    public let events: AsyncStream<HostEvent>

    private let identity: PrivateKey
    private let group: any EventLoopGroup
    private let transports: [any HostTransport]
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let upgrader: ConnectionUpgrader
    private let eventContinuation: AsyncStream<HostEvent>.Continuation
    /// The serving task's input: every connection's inbound streams, negotiated, for their protocols' handlers.
    private let inboundStreams: AsyncStream<P2PStream>
    private let inboundStreamsContinuation: AsyncStream<P2PStream>.Continuation
    /// Wakes the identify pusher: our protocols or listen addresses changed.
    private let pushRequests: AsyncStream<Void>
    private let pushRequestsContinuation: AsyncStream<Void>.Continuation
    private let state: LockedState<State>
    private let manager: ConnectionManager

    private enum Phase {
        case idle
        case starting
        case running(listeners: [any HostTransportListener], serving: Task<Void, Never>)
        case shutDown(serving: Task<Void, Never>?)
    }

    private struct State {
        var phase: Phase = .idle
        var listenAddresses: [Multiaddr] = []
        var handlers: [String: StreamHandler] = [:]
        private(set) var connections: [UInt64: HostConnection] = [:]
        /// The IDs of each peer's connections, oldest first (an index over ``connections``).
        private var connectionIDs: [PeerID: [UInt64]] = [:]
        var handshakesInFlight = 0
        /// The channels being upgraded (inbound and outbound), closed by a shutdown.
        var upgrading: [ObjectIdentifier: any Channel] = [:]
        var nextConnectionID: UInt64 = 0
        /// An identify push round is requested and has not started yet (later changes join it).
        var pushQueued = false
        /// The identify push rounds requested so far.
        var pushRounds = 0
        var identified: [PeerID: IdentifyMessage] = [:]
        /// Shutdowns waiting for the last connection to be forgotten.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        /// Identify requests are answered on the connection's event loop: our own handler is registered for
        /// `/ipfs/id/1.0.0` (one set with ``setHandler(protocol:handler:)`` gets the streams instead).
        var builtInIdentify = false

        /// Our identify message for `peer` (its observed address is the one of our connection to it).
        func identifyMessage(for peer: PeerID, publicKey: PublicKey, agentVersion: String) -> IdentifyMessage {
            IdentifyMessage(
                publicKey: publicKey,
                listenAddresses: self.listenAddresses,
                protocols: self.handlers.keys.sorted(),
                observedAddress: self.connections(to: peer).first?.address,
                protocolVersion: IdentifyMessage.defaultProtocolVersion,
                agentVersion: agentVersion
            )
        }

        /// The open connections to `peer`, oldest first.
        func connections(to peer: PeerID) -> [HostConnection] {
            (self.connectionIDs[peer] ?? []).compactMap { self.connections[$0] }
        }

        /// Whether a connection to `peer` is open.
        func isConnected(to peer: PeerID) -> Bool {
            self.connectionIDs[peer] != nil
        }

        /// The peers with an open connection.
        var connectedPeers: Dictionary<PeerID, [UInt64]>.Keys { self.connectionIDs.keys }

        /// Records `connection`.
        mutating func insert(_ connection: HostConnection) {
            self.connections[connection.id] = connection
            self.connectionIDs[connection.remotePeer, default: []].append(connection.id)
        }

        /// Forgets the connection numbered `id`; returns whether it was recorded.
        @discardableResult
        mutating func removeConnection(id: UInt64) -> Bool {
            guard let connection = self.connections.removeValue(forKey: id) else { return false }
            self.connectionIDs[connection.remotePeer]?.removeAll { $0 == id }
            if self.connectionIDs[connection.remotePeer]?.isEmpty == true {
                self.connectionIDs[connection.remotePeer] = nil
            }
            return true
        }
    }

    /// Creates a host; nothing listens until ``start()``.
    ///
    /// - Parameters:
    ///   - identity: our libp2p key (Ed25519).
    ///   - configuration: listen addresses, timeouts and limits.
    ///   - eventLoopGroup: the NIO loops for connections (`nil`: NIOPosix's shared singleton).
    ///   - transports: how connections travel, asked in order for each address (`nil`: ``TCPTransport`` alone).
    ///   - logger: receives `trace`/`debug` records with `p2p.peer`, `p2p.conn`, `p2p.stream`, `p2p.protocol`.
    ///   - clock: times the idle timeout, redials and ping round trips (a manual or ``EventLoopClock`` in tests).
    ///   - redialJitter: draws each redial delay uniformly within its backoff ceiling ("full jitter"); a seeded
    ///     generator makes redials deterministic in tests.
    public init(
        identity: PrivateKey,
        configuration: HostConfiguration = HostConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        transports: [any HostTransport]? = nil,
        logger: Logger = Logger(label: "p2p.host", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: any Clock<Duration> = ContinuousClock(),
        redialJitter: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) throws {
        self.identity = identity
        self.peerID = PeerID(publicKey: identity.publicKey)
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.transports = transports ?? [TCPTransport()]
        self.clock = clock
        var logger = logger
        logger[metadataKey: "p2p.local"] = "\(self.peerID)"
        self.logger = logger
        (self.events, self.eventContinuation) = AsyncStream<HostEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(4096)
        )
        let (inboundStreams, inboundStreamsContinuation) = AsyncStream<P2PStream>.makeStream()
        (self.inboundStreams, self.inboundStreamsContinuation) = (inboundStreams, inboundStreamsContinuation)
        (self.pushRequests, self.pushRequestsContinuation) = AsyncStream<Void>.makeStream(
            bufferingPolicy: .bufferingNewest(1)
        )
        let state = LockedState(State())
        self.state = state
        self.manager = ConnectionManager(
            machine: ConnectionManagerStateMachine(
                idleTimeout: configuration.idleTimeout.map(ElapsedClock.timeAmount),
                maxConnections: configuration.maxConnections
            ),
            clock: clock,
            jitter: redialJitter
        )
        self.upgrader = ConnectionUpgrader(
            noise: try NoiseConfiguration(
                localIdentity: identity,
                extensions: configuration.inlinedMuxerNegotiation
                    ? NoiseExtensions(streamMuxers: [ConnectionUpgrader.yamuxProtocolID]) : nil
            ),
            yamux: configuration.yamux,
            timeout: configuration.handshakeTimeout,
            streamNegotiation: MultistreamSelectConfiguration(timeout: configuration.streamNegotiationTimeout),
            supportedProtocols: { state.withLock { $0.handlers.keys.sorted() } },
            inboundStreams: { stream in
                // Refused (the stream is closed) once the host shuts down.
                if case .terminated = inboundStreamsContinuation.yield(stream) { return false }
                return true
            },
            identifyReply: { [publicKey = identity.publicKey, agentVersion = configuration.agentVersion] peer in
                state.withLock { state in
                    state.builtInIdentify
                        ? state.identifyMessage(for: peer, publicKey: publicKey, agentVersion: agentVersion) : nil
                }?.encoded
            },
            logger: logger
        )
        self.setHandler(protocol: Identify.pushProtocolID) { [weak self] stream in
            guard let self else { return }
            try await self.receiveIdentifyPush(on: stream)
        }
        self.setHandler(protocol: Identify.protocolID) { [weak self] stream in
            guard let self else { return }
            try await Identify.respond(on: stream, with: self.identifyMessage(for: stream.remotePeer))
        }
        state.withLock { $0.builtInIdentify = true }
        self.setHandler(protocol: Ping.protocolID) { stream in
            try await Ping.respond(on: stream)
        }
        self.setHandler(protocol: Perf.protocolID) { stream in
            try await Perf.respond(on: stream)
        }
    }

    // MARK: Public API

    /// Registers (or replaces) the handler for inbound streams of `protocolID`.
    public func setHandler(protocol protocolID: String, handler: @escaping StreamHandler) {
        let added = self.state.withLock { state in
            if protocolID == Identify.protocolID {
                state.builtInIdentify = false
            }
            return state.handlers.updateValue(handler, forKey: protocolID) == nil
        }
        if added {
            self.announceChange()
        }
    }

    /// Removes the handler for `protocolID`: later inbound streams cannot negotiate it. Connected peers learn the
    /// change through identify push.
    public func removeHandler(protocol protocolID: String) {
        let removed = self.state.withLock { state in
            state.handlers.removeValue(forKey: protocolID) != nil
        }
        if removed {
            self.announceChange()
        }
    }

    /// Binds one more listen address while the host runs and returns it (ending in `/p2p/<our peer ID>`); connected
    /// peers learn it through identify push.
    public func listen(on address: Multiaddr) async throws -> Multiaddr {
        try self.state.withLock { state throws(P2PHostError) in
            guard case .running = state.phase else {
                throw P2PHostError(.notRunning, "cannot listen on \(address): the host is not running")
            }
        }
        let listener = try await self.bind(address)
        let added = self.state.withLock { state -> Bool in
            guard case .running(let listeners, let serving) = state.phase else { return false }
            state.phase = .running(listeners: listeners + [listener], serving: serving)
            state.listenAddresses.append(listener.address)
            return true
        }
        guard added else {
            listener.close()
            throw P2PHostError(.notRunning, "the host shut down while binding \(address)")
        }
        self.logger.debug("listening on one more address", metadata: ["p2p.addr": "\(listener.address)"])
        self.announceChange()
        return listener.address.appending(.p2p(self.peerID))
    }

    /// The protocols accepted on inbound streams, sorted.
    public var protocols: [String] {
        self.state.withLock { $0.handlers.keys.sorted() }
    }

    /// The bound listen addresses, each ending in `/p2p/<our peer ID>` (real ports, also for port 0).
    public var listenAddresses: [Multiaddr] {
        self.state.withLock { $0.listenAddresses }.map { $0.appending(.p2p(self.peerID)) }
    }

    /// The peers with at least one open connection.
    public var connectedPeers: [PeerID] {
        self.state.withLock { Array($0.connectedPeers) }.sorted()
    }

    /// The latest identify result of `peer`, if any.
    public func identifyResult(of peer: PeerID) -> IdentifyMessage? {
        self.state.withLock { $0.identified[peer] }
    }

    /// Keeps a connection to the peer at `address` (which must end in `/p2p/<id>`): dials it now if not connected,
    /// redials with exponential backoff (1 s doubling to 5 minutes, full jitter) whenever it drops, and never closes
    /// it for idleness. Returns the peer's ID.
    @discardableResult
    public func keepConnected(to address: Multiaddr) throws -> PeerID {
        guard let peer = address.peerID else {
            throw P2PHostError(.unsupportedAddress, "cannot keep \(address) connected: it has no /p2p/<peer ID>")
        }
        guard self.transport(dialing: address) != nil else {
            throw P2PHostError(.unsupportedAddress, "cannot keep \(address) connected: no transport can dial it")
        }
        self.manager.keep(peer, addresses: [address])
        return peer
    }

    /// Stops keeping `peer` connected: no more redials (an open connection stays until idle or closed).
    public func stopKeeping(_ peer: PeerID) {
        self.manager.unkeep(peer)
    }

    /// Closes every connection to `peer` (Yamux Go Away first). A kept peer is redialed.
    public func disconnect(from peer: PeerID) {
        let connections = self.state.withLock { state in state.connections(to: peer) }
        for connection in connections {
            connection.close()
        }
    }

    /// Binds the listen addresses and starts serving connections.
    public func start() async throws {
        try self.state.withLock { state throws(P2PHostError) in
            guard case .idle = state.phase else {
                throw P2PHostError(.notRunning, "the host was already started")
            }
            state.phase = .starting
        }
        var listeners: [any HostTransportListener] = []
        var bound: [Multiaddr] = []
        do {
            for address in self.configuration.listenAddresses {
                let listener = try await self.bind(address)
                listeners.append(listener)
                bound.append(listener.address)
            }
        } catch {
            for listener in listeners {
                listener.close()
            }
            self.state.withLock { $0.phase = .shutDown(serving: nil) }
            self.inboundStreamsContinuation.finish()
            self.eventContinuation.finish()
            throw error
        }
        // A bridge: the serving task runs for the host's lifetime; shutdown() finishes its input and awaits it.
        let serving = Task { await self.serve() }
        let stillStarting = self.state.withLock { state in
            guard case .starting = state.phase else { return false }
            state.phase = .running(listeners: listeners, serving: serving)
            state.listenAddresses = bound
            return true
        }
        if !stillStarting {
            for listener in listeners {
                listener.close()
            }
            self.inboundStreamsContinuation.finish()
            await serving.value
            throw P2PHostError(.notRunning, "the host was shut down while starting")
        }
        self.logger.debug("host started", metadata: ["p2p.addrs": "\(bound)"])
    }

    /// Dials `address` (`/ip4|ip6/…/tcp/…` for TCP, optionally ending in `/p2p/<id>`, which the peer must prove in
    /// Noise), upgrades the connection and returns the peer's ID. Returns at once if that peer is already connected.
    public func dial(_ address: Multiaddr) async throws -> PeerID {
        let target = address.removingPeerID()
        guard let transport = self.transport(dialing: target) else {
            throw P2PHostError(.unsupportedAddress, "cannot dial \(address): no transport supports it")
        }
        let expectedPeer = address.peerID
        if let existing = try self.reserveOutboundHandshake(to: expectedPeer) {
            return existing
        }
        defer { self.state.withLock { $0.handshakesInFlight -= 1 } }

        // The connect and the upgrade run on the channel's event loop, chained there, so the dial costs this task
        // one hop onto the loop and one back (awaiting the connect and then the upgrade took two of each).
        let eventLoop = self.group.next()
        let dialing = LockedState(DialingChannel.connecting)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<PeerID, any Error>) in
                eventLoop.execute {
                    transport.dial(target, on: eventLoop, timeout: self.configuration.dialTimeout) { channel in
                        // Cancelling the dial closes the connection, which fails the upgrade at once.
                        let cancelled = dialing.withLock { state -> Bool in
                            guard case .connecting = state else { return true }
                            state = .connected(channel)
                            return false
                        }
                        if cancelled {
                            channel.close(promise: nil)
                        }
                        return eventLoop.makeSucceededFuture(
                            self.upgradeOutbound(channel, expectedPeer: expectedPeer, address: target)
                        )
                    }
                    .flatMapErrorThrowing { error in
                        if error is P2PHostError { throw error }
                        throw P2PHostError(.dialFailed, "cannot connect to \(address)", underlying: error)
                    }
                    .flatMap { $0 }
                    .whenComplete { continuation.resume(with: $0) }
                }
            }
        } onCancel: {
            let channel = dialing.withLock { state -> (any Channel)? in
                defer { state = .cancelled }
                if case .connected(let channel) = state { return channel }
                return nil
            }
            channel?.close(promise: nil)
        }
    }

    /// Connects to `other`, a host in the same process, over a Unix socket pair: no network and no ports, the same
    /// upgrade as over TCP (this host dials, `other` accepts). Returns `other`'s peer ID.
    public func connect(inProcessTo other: LibP2PHost) async throws -> PeerID {
        if let existing = try self.reserveOutboundHandshake(to: other.peerID) {
            return existing
        }
        defer { self.state.withLock { $0.handshakesInFlight -= 1 } }
        let (ourDescriptor, theirDescriptor) = try InProcessSocketPair.make()
        // Both ends are set up on their event loops without waiting for this task in between: a busy task pool
        // must not hold one end back while the other's handshake timeout runs.
        let expectedPeer = other.peerID
        let connected = self.group.next().makePromise(of: PeerID.self)
        let theirs = ClientBootstrap(group: other.group)
            .channelInitializer { channel in
                other.accept(channel, upgrader: other.upgrader)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .withConnectedSocket(theirDescriptor)
        let ours = ClientBootstrap(group: self.group)
            .channelInitializer { channel in
                self.upgradeOutbound(channel, expectedPeer: expectedPeer, address: nil).cascade(to: connected)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .withConnectedSocket(ourDescriptor)
        // A failed setup fails the connection (a later completion of the upgrade is then ignored).
        ours.whenFailure { connected.fail($0) }
        theirs.whenFailure { error in
            connected.fail(error)
            ours.whenSuccess { $0.close(promise: nil) }
        }
        let channel: any Channel
        do {
            _ = try await theirs.get()
        } catch {
            InProcessSocketPair.close(theirDescriptor)
            if (try? await ours.get()) == nil {
                InProcessSocketPair.close(ourDescriptor)
            }
            throw P2PHostError(.dialFailed, "cannot connect in process to \(other.peerID)", underlying: error)
        }
        do {
            channel = try await ours.get()
        } catch {
            InProcessSocketPair.close(ourDescriptor)
            throw P2PHostError(.dialFailed, "cannot connect in process to \(other.peerID)", underlying: error)
        }
        return try await withTaskCancellationHandler {
            try await connected.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Upgrades an outbound `channel` and registers the connection on its event loop, before the peer's first
    /// streams can arrive; the future gives the peer. A shutdown meanwhile closes the channel (at once when the
    /// host already shuts down).
    private func upgradeOutbound(
        _ channel: any Channel,
        expectedPeer: PeerID?,
        address: Multiaddr?
    ) -> EventLoopFuture<PeerID> {
        let running = self.state.withLock { state -> Bool in
            guard case .running = state.phase else { return false }
            state.upgrading[ObjectIdentifier(channel)] = channel
            return true
        }
        guard running else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(
                P2PHostError(.notRunning, "the host shut down during the connection upgrade")
            )
        }
        let upgrade = self.upgrader.upgrade(channel: channel, direction: .outbound, expectedPeer: expectedPeer)
        upgrade.whenComplete { _ in
            self.state.withLock { _ = $0.upgrading.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        return upgrade.flatMapThrowing { upgraded in
            try self.register(upgraded, direction: .outbound, address: address)
            return upgraded.remotePeer
        }
    }

    /// Takes a handshake slot for an outbound connection, or returns the peer if it is already connected.
    private func reserveOutboundHandshake(to expectedPeer: PeerID?) throws(P2PHostError) -> PeerID? {
        try self.state.withLock { state throws(P2PHostError) -> PeerID? in
            guard case .running = state.phase else {
                throw P2PHostError(.notRunning, "the host is not running")
            }
            if let expectedPeer, state.isConnected(to: expectedPeer) {
                return expectedPeer
            }
            guard state.handshakesInFlight < self.configuration.maxPendingHandshakes else {
                throw P2PHostError(.tooManyHandshakes, "too many connection handshakes in flight")
            }
            guard state.connections.count + state.handshakesInFlight < self.configuration.maxConnections else {
                throw P2PHostError(
                    .tooManyConnections,
                    "the connection limit (\(self.configuration.maxConnections)) is reached"
                )
            }
            state.handshakesInFlight += 1
            return nil
        }
    }

    /// Opens a stream to a connected `peer` and negotiates the first of `protocols` it supports.
    public func newStream(to peer: PeerID, protocols: [String]) async throws -> P2PStream {
        guard !protocols.isEmpty else {
            throw P2PHostError(.protocolNotSupported, "newStream needs at least one protocol")
        }
        guard let connection = self.connection(to: peer) else {
            throw P2PHostError(.notConnected, "no connection to \(peer)")
        }
        do {
            return try await ConnectionUpgrader.openStream(
                on: connection.session,
                protocols: protocols,
                remotePeer: peer,
                tracker: connection.streams,
                negotiation: MultistreamSelectConfiguration(timeout: self.configuration.streamNegotiationTimeout),
                logger: self.logger
            ).get()
        } catch let error as P2PCoreError where error.code == .multistreamNoCommonProtocol {
            throw P2PHostError(
                .protocolNotSupported,
                "\(peer) supports none of \(protocols.joined(separator: ", "))",
                underlying: error
            )
        } catch let error as P2PHostError {
            throw error
        } catch {
            throw P2PHostError(
                .closed,
                "cannot open a \(protocols.joined(separator: "|")) stream to \(peer)",
                underlying: error
            )
        }
    }

    /// Pings a connected `peer` `count` times on one stream and returns the round-trip times.
    public func ping(_ peer: PeerID, count: Int = 1) async throws -> [Duration] {
        let stream = try await self.newStream(to: peer, protocols: [Ping.protocolID])
        var generator = SystemRandomNumberGenerator()
        var times: [Duration] = []
        do {
            for _ in 0..<max(1, count) {
                let payload = Ping.makePayload(using: &generator)
                times.append(try await Ping.ping(on: stream, payload: payload, clock: self.clock))
            }
        } catch {
            await stream.reset()
            throw error
        }
        try? await stream.closeWrite()
        await stream.close()
        return times
    }

    /// Runs identify with a connected `peer` now and returns its answer (also stored and reported as an event).
    public func identify(_ peer: PeerID) async throws -> IdentifyMessage {
        guard let connection = self.connection(to: peer) else {
            throw P2PHostError(.notConnected, "no connection to \(peer)")
        }
        return try await self.requestIdentify(on: connection).get()
    }

    /// Asks the peer of `connection` for identify on the connection's event loop; records the answer and reports it.
    private func requestIdentify(on connection: HostConnection) -> EventLoopFuture<IdentifyMessage> {
        let peer = connection.remotePeer
        return ConnectionUpgrader.requestIdentify(
            on: connection.session,
            remotePeer: peer,
            tracker: connection.streams,
            negotiation: MultistreamSelectConfiguration(timeout: self.configuration.streamNegotiationTimeout),
            logger: self.logger
        ).flatMapErrorThrowing { error in
            guard let error = error as? P2PCoreError, error.code == .multistreamNoCommonProtocol else { throw error }
            throw P2PHostError(.protocolNotSupported, "\(peer) does not support identify", underlying: error)
        }.map { message in
            self.state.withLock { $0.identified[peer] = message }
            self.eventContinuation.yield(
                .identified(
                    peer: peer,
                    agentVersion: message.agentVersion,
                    protocols: message.protocols,
                    listenAddresses: message.listenAddresses
                )
            )
            return message
        }
    }

    /// Asks the peer of a new connection for identify; a failure is an error event unless the connection closed.
    private func identifyOnConnect(_ connection: HostConnection) {
        self.requestIdentify(on: connection).whenFailure { error in
            self.logger.debug(
                "identify failed",
                metadata: ["p2p.peer": "\(connection.remotePeer)", "p2p.error": "\(error)"]
            )
            // A connection that closed meanwhile is reported by its disconnection, not as an error.
            let stillOpen =
                connection.channel.isActive && self.state.withLock { $0.connections[connection.id] != nil }
            guard stillOpen else { return }
            self.eventContinuation.yield(
                .error(message: "identify with \(connection.remotePeer) failed: \(error)", peer: connection.remotePeer)
            )
        }
    }

    /// Closes the listeners and every connection (Yamux Go Away first), then waits until every connection is
    /// forgotten and every stream handler has returned.
    public func shutdown() async {
        let serving = self.beginShutdown()
        await self.connectionsDrained()
        await serving?.value
        self.eventContinuation.finish()
    }

    /// Serves until the task is cancelled or a graceful shutdown is triggered, then shuts down.
    public func run() async throws {
        try await self.start()
        let serving = self.state.withLock { state -> Task<Void, Never>? in
            if case .running(_, let serving) = state.phase { return serving }
            return nil
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await serving?.value
            } onCancel: {
                _ = self.beginShutdown()
            }
        } onGracefulShutdown: {
            _ = self.beginShutdown()
        }
        await self.shutdown()
    }

    // MARK: Internals

    /// Moves to shut down and closes everything; returns the serving task to await. Safe to call repeatedly.
    private func beginShutdown() -> Task<Void, Never>? {
        let (listeners, connections, upgrading, serving) = self.state.withLock {
            state -> ([any HostTransportListener], [HostConnection], [any Channel], Task<Void, Never>?) in
            let upgrading = Array(state.upgrading.values)
            switch state.phase {
            case .idle, .starting:
                state.phase = .shutDown(serving: nil)
                return ([], [], upgrading, nil)
            case .running(let listeners, let serving):
                state.phase = .shutDown(serving: serving)
                return (listeners, Array(state.connections.values), upgrading, serving)
            case .shutDown(let serving):
                return ([], Array(state.connections.values), upgrading, serving)
            }
        }
        for listener in listeners {
            listener.close()
        }
        for connection in connections {
            connection.close()
        }
        // Connections still in their upgrade would otherwise live on until it ends or times out.
        for channel in upgrading {
            channel.close(promise: nil)
        }
        self.inboundStreamsContinuation.finish()
        self.manager.finish()
        self.pushRequestsContinuation.finish()
        return serving
    }

    /// The first transport that can dial `address`.
    private func transport(dialing address: Multiaddr) -> (any HostTransport)? {
        let target = address.removingPeerID()
        return self.transports.first { $0.canDial(target) }
    }

    private func bind(_ address: Multiaddr) async throws -> any HostTransportListener {
        guard let transport = self.transports.first(where: { $0.canListen(on: address) }) else {
            throw P2PHostError(.unsupportedAddress, "cannot listen on \(address): no transport supports it")
        }
        let upgrader = self.upgrader
        do {
            return try await transport.listen(on: address, group: self.group) { [weak self] channel in
                guard let self else { return channel.eventLoop.makeSucceededVoidFuture() }
                self.accept(channel, upgrader: upgrader)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        } catch let error as P2PHostError {
            throw error
        } catch {
            throw P2PHostError(.listenFailed, "cannot listen on \(address)", underlying: error)
        }
    }

    /// Starts the upgrade of an accepted connection, within the handshake and connection limits.
    private func accept(_ channel: any Channel, upgrader: ConnectionUpgrader) {
        let admitted = self.state.withLock { state -> Bool in
            guard case .running = state.phase,
                state.handshakesInFlight < self.configuration.maxPendingHandshakes,
                state.connections.count + state.handshakesInFlight < self.configuration.maxConnections
            else { return false }
            state.handshakesInFlight += 1
            state.upgrading[ObjectIdentifier(channel)] = channel
            return true
        }
        guard admitted else {
            self.logger.debug("inbound connection refused: limits reached or not running")
            channel.close(promise: nil)
            return
        }
        let address = channel.remoteAddress.flatMap { Multiaddr(tcp: $0) }
        upgrader.upgrade(channel: channel, direction: .inbound, expectedPeer: nil).whenComplete { result in
            // Registered before it stops counting as in flight (as a dial is): a connection is always one or the other.
            defer {
                self.state.withLock { state in
                    state.handshakesInFlight -= 1
                    state.upgrading.removeValue(forKey: ObjectIdentifier(channel))
                }
            }
            switch result {
            case .success(let connection):
                try? self.register(connection, direction: .inbound, address: address)
            case .failure(let error):
                self.logger.debug("inbound upgrade failed", metadata: ["p2p.error": "\(error)"])
                self.eventContinuation.yield(
                    .error(
                        message: "inbound connection from \(address?.description ?? "?") failed: \(error)",
                        peer: nil
                    )
                )
            }
        }
    }

    /// Records an upgraded connection, forgets it when it closes, and asks its peer for identify.
    ///
    /// One connection per peer: when both sides dialed, each side keeps the connection dialed by the smaller peer
    /// ID (the older one if the same peer dialed both) and closes the other, so both sides pick the same one.
    /// ``HostEvent/peerConnected(peer:direction:address:)`` is reported for the first connection to a peer only.
    private func register(_ upgraded: UpgradedConnection, direction: ConnectionDirection, address: Multiaddr?) throws {
        let localPeer = self.peerID
        let outcome = self.state.withLock { state -> (kept: HostConnection?, closed: [HostConnection], first: Bool)? in
            guard case .running = state.phase else { return nil }
            state.nextConnectionID += 1
            let connection = HostConnection(
                id: state.nextConnectionID,
                upgraded: upgraded,
                direction: direction,
                address: address
            )
            let existing = state.connections(to: connection.remotePeer)
            let rank = { (candidate: HostConnection) in
                (candidate.direction == .outbound ? localPeer : candidate.remotePeer, candidate.id)
            }
            let keep = (existing + [connection]).min { rank($0) < rank($1) }
            guard keep?.id == connection.id else {
                return (nil, [connection], false)
            }
            for duplicate in existing {
                state.removeConnection(id: duplicate.id)
            }
            state.insert(connection)
            return (connection, existing, existing.isEmpty)
        }
        guard let outcome else {
            upgraded.channel.close(promise: nil)
            throw P2PHostError(.notRunning, "the host shut down during the connection upgrade")
        }
        for duplicate in outcome.closed {
            self.logger.debug(
                "closing duplicate connection",
                metadata: ["p2p.peer": "\(duplicate.remotePeer)", "p2p.conn": "\(duplicate.id)"]
            )
            duplicate.close()
        }
        guard let connection = outcome.kept else { return }
        self.logger.debug(
            "connection established",
            metadata: [
                "p2p.peer": "\(connection.remotePeer)", "p2p.conn": "\(connection.id)", "p2p.direction": "\(direction)",
            ]
        )
        self.manager.connectionOpened(peer: connection.remotePeer)
        connection.channel.closeFuture.whenComplete { _ in
            self.forget(connection)
        }
        connection.streams.observe { [manager = self.manager, peer = connection.remotePeer] openStreams in
            manager.streamCountChanged(peer: peer, openStreams: openStreams)
        }
        if outcome.first {
            self.eventContinuation.yield(
                .peerConnected(peer: connection.remotePeer, direction: direction, address: address)
            )
        }
        if self.configuration.identifyOnConnect {
            self.identifyOnConnect(connection)
        }
    }

    /// Forgets a closed connection; reports the peer's disconnection when it was the last connection to it (not a
    /// duplicate that lost to another), and wakes a shutdown waiting for the last connection.
    private func forget(_ connection: HostConnection) {
        let (lastForPeer, waiters) = self.state.withLock {
            state -> (lastForPeer: Bool, waiters: [CheckedContinuation<Void, Never>]) in
            let recorded = state.removeConnection(id: connection.id)
            let lastForPeer = recorded && !state.isConnected(to: connection.remotePeer)
            if lastForPeer {
                state.identified[connection.remotePeer] = nil
            }
            guard case .shutDown = state.phase, state.connections.isEmpty else { return (lastForPeer, []) }
            defer { state.drainWaiters = [] }
            return (lastForPeer, state.drainWaiters)
        }
        if self.logger.logLevel <= .debug {
            self.logger.debug(
                "connection closed",
                metadata: ["p2p.peer": "\(connection.remotePeer)", "p2p.conn": "\(connection.id)"]
            )
        }
        if lastForPeer {
            self.manager.connectionClosed(peer: connection.remotePeer)
            self.eventContinuation.yield(.peerDisconnected(peer: connection.remotePeer))
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Returns once every connection is forgotten (their disconnections reported); call after closing them.
    private func connectionsDrained() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let drained = self.state.withLock { state -> Bool in
                if state.connections.isEmpty { return true }
                state.drainWaiters.append(waiter)
                return false
            }
            if drained {
                waiter.resume()
            }
        }
    }

    /// The number of connection upgrades in flight (inbound and outbound).
    public var pendingHandshakeCount: Int {
        self.state.withLock { $0.handshakesInFlight }
    }

    /// The number of open connections to `peer` (at most one once simultaneous dials are settled).
    public func connectionCount(to peer: PeerID) -> Int {
        self.state.withLock { state in state.connections(to: peer).count }
    }

    /// The open streams on the connection to `peer` (`nil` when not connected); for tests.
    func openStreamCount(to peer: PeerID) -> Int? {
        self.connection(to: peer)?.streams.openStreams
    }

    /// How long until the connection manager's next idle close or redial; for tests on virtual time.
    var timeUntilConnectionManagerDeadline: Duration? {
        self.manager.timeUntilNextDeadline
    }

    private func connection(to peer: PeerID) -> HostConnection? {
        self.state.withLock { state in
            state.connections(to: peer).first
        }
    }

    private func serve() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.manager.run(
                    dial: { address in _ = try await self.dial(address) },
                    close: { peer in self.disconnect(from: peer) }
                )
            }
            group.addTask {
                for await _ in self.pushRequests {
                    await self.pushIdentify()
                }
            }
            for await stream in self.inboundStreams {
                guard let handler = self.state.withLock({ $0.handlers[stream.protocolID] }) else {
                    group.addTask { await stream.close() }
                    continue
                }
                group.addTask { await self.run(handler, on: stream) }
            }
            // Shutting down: the pusher's input finished too, so the group drains as the streams close.
        }
    }

    /// Runs `handler` on an inbound `stream`; a failure resets the stream.
    private func run(_ handler: StreamHandler, on stream: P2PStream) async {
        do {
            try await handler(stream)
        } catch {
            self.logger.debug(
                "stream handler failed, resetting its stream",
                metadata: [
                    "p2p.peer": "\(stream.remotePeer)", "p2p.protocol": "\(stream.protocolID)", "p2p.error": "\(error)",
                ]
            )
            // RST rather than FIN: the peer must not mistake a rejected exchange for a finished one.
            await stream.reset()
        }
    }

    /// Our identify message for `peer` (its observed address is the one of our connection to it).
    private func identifyMessage(for peer: PeerID) -> IdentifyMessage {
        self.state.withLock { state in
            state.identifyMessage(
                for: peer,
                publicKey: self.identity.publicKey,
                agentVersion: self.configuration.agentVersion
            )
        }
    }

    // MARK: Identify push

    /// The identify push rounds requested so far (for tests).
    var identifyPushCount: Int {
        self.state.withLock { $0.pushRounds }
    }

    /// Our protocols or listen addresses changed: queue one push round to the connected peers (changes made before
    /// the round starts join it).
    private func announceChange() {
        let wake = self.state.withLock { state -> Bool in
            guard case .running = state.phase, !state.connections.isEmpty, !state.pushQueued else { return false }
            state.pushQueued = true
            state.pushRounds += 1
            return true
        }
        if wake {
            self.pushRequestsContinuation.yield()
        }
    }

    /// Pushes our current identify message to every connected peer that accepts identify push (or whose protocols
    /// we do not know yet), all at once; a peer that fails is only logged.
    private func pushIdentify() async {
        let peers = self.state.withLock { state -> [PeerID] in
            state.pushQueued = false
            return state.connectedPeers.filter { peer in
                state.identified[peer].map { $0.protocols.contains(Identify.pushProtocolID) } ?? true
            }
        }
        await withDiscardingTaskGroup { group in
            for peer in peers {
                group.addTask {
                    do {
                        let stream = try await self.newStream(to: peer, protocols: [Identify.pushProtocolID])
                        try await Identify.push(self.identifyMessage(for: peer), on: stream)
                    } catch {
                        self.logger.debug(
                            "identify push failed",
                            metadata: ["p2p.peer": "\(peer)", "p2p.error": "\(error)"]
                        )
                    }
                }
            }
        }
    }

    /// Handles an inbound identify push: reads it (size-limited), checks its key, and merges it into the peer's
    /// identify record (a push may be partial). A bad push throws, so the serving loop resets the stream.
    private func receiveIdentifyPush(on stream: P2PStream) async throws {
        let peer = stream.remotePeer
        let push = try await Identify.receivePush(on: stream)
        if let publicKey = push.publicKey, !peer.matches(publicKey) {
            throw P2PHostError(.protocolViolation, "identify push from \(peer) carries another peer's public key")
        }
        await stream.close()
        let merged = self.state.withLock { state -> IdentifyMessage? in
            guard state.isConnected(to: peer) else { return nil }
            var record = state.identified[peer] ?? IdentifyMessage()
            record.apply(push: push)
            state.identified[peer] = record
            return record
        }
        guard let merged else { return }
        self.eventContinuation.yield(
            .identified(
                peer: peer,
                agentVersion: merged.agentVersion,
                protocols: merged.protocols,
                listenAddresses: merged.listenAddresses
            )
        )
    }
}

/// The channel of a dial in progress, for cancelling it: none yet, the channel, or cancelled (a channel created later
/// is closed at once).
private enum DialingChannel: Sendable {
    case connecting
    case connected(any Channel)
    case cancelled
}
