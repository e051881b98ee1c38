import Foundation
public import Logging
import NIOCore
public import P2PCore
public import P2PHost
public import ServiceLifecycle

// https://github.com/libp2p/specs/blob/master/pubsub/README.md#the-rpc
// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md

/// GossipSub over a ``LibP2PHost``: a swift-service-lifecycle `Service` that runs a ``GossipSubDriver`` on the
/// host's streams.
///
/// ``run()`` registers `/meshsub/1.1.0` and `/meshsub/1.0.0` (``GossipSubServiceConfiguration/protocols``). For
/// each connected peer that speaks one of them it opens one outbound stream, which carries every RPC we send to
/// that peer and is re-opened when the peer resets or closes it; the peer's inbound stream is only read (a newer
/// one replaces an older one). A malformed or oversized frame closes the inbound stream and penalises the peer;
/// the node keeps serving everyone else. The heartbeat runs every
/// ``GossipSubConfiguration/heartbeatInterval`` on the injected clock. Peers offered by peer exchange are dialed
/// when a topic's mesh is short and their addresses are known from identify.
///
/// The service learns about connections from the host's ``LibP2PHost/events``, which has a single consumer: by
/// default ``run()`` consumes them; a composer that needs them too passes `consumesHostEvents: false` and hands
/// each event to ``hostEventReceived(_:)``.
public actor GossipSubService: Service {
    /// The application's verdict on a message before it is delivered or forwarded.
    public typealias Validator = @Sendable (GossipSubReceivedMessage) async -> GossipSubValidationResult
    typealias Job = @Sendable () async -> Void

    /// The host whose streams carry the RPCs.
    public nonisolated let host: LibP2PHost
    /// Our peer ID (the host's).
    public nonisolated let localPeerID: PeerID
    /// The settings.
    public nonisolated let configuration: GossipSubServiceConfiguration
    /// Router events (subscriptions, grafts, prunes, rejections, rate limits) while ``run()`` runs.
    /// Iterate it from one task only; unread events beyond ``GossipSubServiceConfiguration/eventBufferLimit`` are
    /// dropped.
    public nonisolated let events: AsyncStream<GossipSubEvent>

    private nonisolated let eventContinuation: AsyncStream<GossipSubEvent>.Continuation
    private nonisolated let routerEvents: AsyncStream<GossipSubEvent>
    private nonisolated let routerEventContinuation: AsyncStream<GossipSubEvent>.Continuation
    private nonisolated let jobs: AsyncStream<Job>
    private nonisolated let jobContinuation: AsyncStream<Job>.Continuation
    private nonisolated let registry: GossipSubServiceRegistry
    private nonisolated let driver: GossipSubDriver
    private nonisolated let clock: any Clock<Duration>
    private nonisolated let consumesHostEvents: Bool
    private nonisolated let logger: Logger

    private enum Phase {
        case idle
        case running
        case stopped
    }

    private struct Session {
        var id: UInt64
        var outbound: Bool
        var registered = false
        var waiters: [CheckedContinuation<Bool, Never>] = []
        var inbound: (id: UInt64, stream: P2PStream)?
    }

    private var phase = Phase.idle
    private var sessions: [PeerID: Session] = [:]
    private var nextID: UInt64 = 0
    private var addressBook: [PeerID: [Multiaddr]] = [:]
    private static let addressBookLimit = 1024

    /// Creates the service; nothing happens until ``run()``.
    ///
    /// - Parameters:
    ///   - host: the host; it may already be running and connected.
    ///   - identity: the host's identity key (it signs StrictSign messages); must match ``LibP2PHost/peerID``.
    ///   - configuration: router parameters, per-topic policies and the service's limits.
    ///   - consumesHostEvents: whether ``run()`` iterates `host.events` (pass `false` and forward them with
    ///     ``hostEventReceived(_:)`` when something else consumes them).
    ///   - clock: times heartbeats and stream re-open backoff (a manual clock in tests).
    ///   - rng: randomness for the router's peer sampling.
    ///   - logger: `debug`/`trace` records with `p2p.peer` and `gossip.topic`.
    /// - Throws: ``GossipSubError/Code/invalidConfiguration`` for a bad configuration or a key that is not the
    ///   host's.
    public init(
        host: LibP2PHost,
        identity: PrivateKey,
        configuration: GossipSubServiceConfiguration = GossipSubServiceConfiguration(),
        consumesHostEvents: Bool = true,
        clock: any Clock<Duration> = ContinuousClock(),
        rng: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        logger: Logger = Logger(label: "p2p.gossipsub", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        try configuration.validate()
        let peer = PeerID(publicKey: identity.publicKey)
        guard peer == host.peerID else {
            throw GossipSubError(
                .invalidConfiguration,
                "the identity key belongs to \(peer), not to the host \(host.peerID)"
            )
        }
        let sequenceNumber =
            configuration.initialSequenceNumber ?? UInt64(max(1, Date().timeIntervalSince1970 * 1_000_000_000))
        let router = try GossipSubRouter(
            localKey: identity,
            configuration: configuration.router,
            initialSequenceNumber: sequenceNumber
        )
        self.host = host
        self.localPeerID = peer
        self.configuration = configuration
        self.consumesHostEvents = consumesHostEvents
        self.clock = clock
        var logger = logger
        logger[metadataKey: "p2p.local"] = "\(peer)"
        self.logger = logger
        (self.events, self.eventContinuation) = AsyncStream.makeStream(
            bufferingPolicy: .bufferingNewest(configuration.eventBufferLimit)
        )
        let (routerEvents, routerEventContinuation) = AsyncStream<GossipSubEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(configuration.eventBufferLimit)
        )
        self.routerEvents = routerEvents
        self.routerEventContinuation = routerEventContinuation
        (self.jobs, self.jobContinuation) = AsyncStream.makeStream()
        let registry = GossipSubServiceRegistry()
        self.registry = registry
        let topics = configuration.router
        self.driver = GossipSubDriver(
            router: router,
            rng: rng,
            send: { peer, bytes in
                registry.enqueue(.frames(bytes), to: peer)
            },
            validate: { message, source in
                guard let validator = registry.validator(topic: message.topic) else { return .accept }
                let id = topics.topic(message.topic).messageIDFunction.messageID(of: message)
                return await validator(GossipSubReceivedMessage(message: message, id: id, propagationSource: source))
            },
            deliver: { message, id, source in
                registry.deliver(GossipSubReceivedMessage(message: message, id: id, propagationSource: source))
            },
            events: { event in
                routerEventContinuation.yield(event)
            }
        )
    }

    // MARK: Public API

    /// Joins `topic` and returns the messages received on it from now on.
    ///
    /// Several subscriptions to one topic each receive every message. After ``run()`` ended the subscription is
    /// empty.
    public func subscribe(_ topic: String) async -> GossipSubSubscription {
        let (stream, continuation) = AsyncStream<GossipSubReceivedMessage>.makeStream(
            bufferingPolicy: .bufferingNewest(self.configuration.subscriptionBufferLimit)
        )
        guard let (id, first) = self.registry.addSubscriber(topic: topic, continuation) else {
            continuation.finish()
            return GossipSubSubscription(topic: topic, stream: stream)
        }
        continuation.onTermination = { [registry] _ in
            registry.removeSubscriber(topic: topic, id: id)
        }
        if first {
            await self.driver.subscribe(topic)
        }
        return GossipSubSubscription(topic: topic, stream: stream)
    }

    /// Leaves `topic`: ends its subscriptions and tells the peers (PRUNE with the unsubscribe backoff).
    public func unsubscribe(_ topic: String) async {
        _ = self.registry.removeTopic(topic)
        await self.driver.unsubscribe(topic)
    }

    /// Publishes `data` on `topic` (subscribed or not) under the topic's signature policy and returns its ID.
    ///
    /// - Throws: ``GossipSubError/Code/tooLarge`` when the message cannot fit in one frame,
    ///   ``GossipSubError/Code/duplicateMessage`` when the same ID was seen recently (the same data on a
    ///   StrictNoSign topic).
    @discardableResult
    public func publish(topic: String, data: [UInt8]) async throws -> GossipMessageID {
        try await self.driver.publish(topic: topic, data: data)
    }

    /// Sets (or with `nil` removes) the validator of `topic`; it runs on every new message of the topic before
    /// it is delivered or forwarded. Without one every well-formed message is accepted.
    public nonisolated func setValidator(topic: String, _ validator: Validator?) {
        self.registry.setValidator(topic: topic, validator)
    }

    /// The connected pubsub peers subscribed to `topic`, sorted.
    public func peers(subscribedTo topic: String) async -> [PeerID] {
        await self.driver.state.topicPeers(topic).sorted()
    }

    /// Our mesh peers for `topic`, sorted (empty when we are not subscribed).
    public func meshPeers(of topic: String) async -> [PeerID] {
        await self.driver.state.meshPeers(topic).sorted()
    }

    /// The connected pubsub peers (those whose outbound stream is open and registered with the router), sorted.
    public func connectedPeers() async -> [PeerID] {
        await self.driver.state.connectedPeers.sorted()
    }

    /// The current score of `peer` (0 when scoring is off).
    public func score(of peer: PeerID) async -> Double {
        await self.driver.state.score(of: peer)
    }

    /// Runs one heartbeat now (``run()`` also runs them on the clock).
    public func heartbeat() async {
        self.registry.heartbeatRan()
        await self.driver.heartbeat()
    }

    /// Handles a host event: starts a pubsub session with a newly connected (or identified) peer, ends it when
    /// the peer disconnects, and remembers identify's listen addresses for peer exchange.
    public func hostEventReceived(_ event: HostEvent) async {
        switch event {
        case .peerConnected(let peer, let direction, _):
            if self.sessions[peer] != nil {
                // An inbound pubsub stream came first and started the session without knowing the direction.
                self.sessions[peer]?.outbound = direction == .outbound
            } else {
                self.startSession(peer, outbound: direction == .outbound)
            }
        case .peerDisconnected(let peer):
            await self.endSession(peer)
        case .identified(let peer, _, let protocols, let listenAddresses):
            if self.addressBook[peer] == nil, self.addressBook.count >= Self.addressBookLimit,
                let evicted = self.addressBook.keys.first
            {
                self.addressBook[evicted] = nil
            }
            self.addressBook[peer] = Array(listenAddresses.prefix(8))
            let ours = Set(self.configuration.protocols.map(\.rawValue))
            if protocols.contains(where: ours.contains) {
                self.startSession(peer, outbound: false)
            }
        case .error:
            break
        }
    }

    /// Serves until cancelled or a graceful shutdown: registers the pubsub protocols on the host, runs the
    /// heartbeat and the per-peer streams. Then ends every subscription and ``events``.
    ///
    /// - Throws: ``GossipSubError/Code/invalidConfiguration`` when the service already ran.
    public func run() async throws {
        guard case .idle = self.phase else {
            throw GossipSubError(.invalidConfiguration, "a GossipSubService runs only once")
        }
        self.phase = .running
        for protocolID in self.configuration.protocols {
            self.host.setHandler(protocol: protocolID.rawValue) { [weak self] stream in
                guard let self else {
                    await stream.close()
                    return
                }
                await self.serveInbound(stream)
            }
        }
        self.logger.debug("gossipsub started", metadata: ["p2p.protocols": "\(self.configuration.protocols)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.runHeartbeats() }
                group.addTask { await self.runRouterEvents() }
                if self.consumesHostEvents {
                    group.addTask {
                        for await event in self.host.events {
                            await self.hostEventReceived(event)
                        }
                    }
                }
                for peer in self.host.connectedPeers {
                    self.startSession(peer, outbound: false)
                }
                for await job in self.jobs {
                    group.addTask { await job() }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.jobContinuation.finish()
        }
        await self.stop()
    }

    // MARK: Sessions

    /// Starts the pubsub session of a peer (its outbound writer) unless one exists.
    private func startSession(_ peer: PeerID, outbound: Bool) {
        guard case .running = self.phase, peer != self.localPeerID, self.sessions[peer] == nil else { return }
        self.nextID += 1
        let id = self.nextID
        self.sessions[peer] = Session(id: id, outbound: outbound)
        let (outbox, continuation) = AsyncStream<GossipSubOutboxItem>.makeStream(
            bufferingPolicy: .bufferingOldest(self.configuration.outboundQueueLimit)
        )
        self.registry.setOutbox(peer, session: id, continuation)
        self.jobContinuation.yield { await self.runWriter(peer: peer, session: id, outbox: outbox) }
    }

    /// The peer disconnected: forget it.
    private func endSession(_ peer: PeerID) async {
        guard let session = self.sessions.removeValue(forKey: peer) else { return }
        self.registry.removeOutbox(peer, session: session.id)
        for waiter in session.waiters {
            waiter.resume(returning: false)
        }
        if let inbound = session.inbound {
            await inbound.stream.close()
        }
        await self.driver.peerDisconnected(peer)
    }

    /// The first outbound stream could not be opened: the peer does not speak pubsub (or left).
    private func sessionFailed(_ peer: PeerID, session id: UInt64) async {
        guard let session = self.sessions[peer], session.id == id else { return }
        self.sessions[peer] = nil
        self.registry.removeOutbox(peer, session: id)
        for waiter in session.waiters {
            waiter.resume(returning: false)
        }
        if let inbound = session.inbound {
            await inbound.stream.close()
        }
    }

    /// The router knows the peer now: release the inbound readers waiting for it.
    private func sessionRegistered(_ peer: PeerID, session id: UInt64) async {
        guard var session = self.sessions[peer], session.id == id else {
            // The peer left while we registered it: undo, unless a newer session took over.
            if self.sessions[peer] == nil {
                await self.driver.peerDisconnected(peer)
            }
            return
        }
        session.registered = true
        let waiters = session.waiters
        session.waiters = []
        self.sessions[peer] = session
        for waiter in waiters {
            waiter.resume(returning: true)
        }
    }

    private func connectionIsOutbound(_ peer: PeerID, session id: UInt64) -> Bool {
        self.sessions[peer].map { $0.id == id && $0.outbound } ?? false
    }

    /// Waits until the peer's session is registered with the router; `false` when it ended instead.
    private func waitUntilRegistered(_ peer: PeerID) async -> Bool {
        guard let session = self.sessions[peer] else { return false }
        if session.registered { return true }
        return await withCheckedContinuation { continuation in
            self.sessions[peer]?.waiters.append(continuation)
        }
    }

    /// Records a new inbound stream (starting the session if needed) and closes the peer's older one.
    private func inboundOpened(_ stream: P2PStream) async -> UInt64? {
        let peer = stream.remotePeer
        guard case .running = self.phase else { return nil }
        self.startSession(peer, outbound: false)
        guard self.sessions[peer] != nil else { return nil }
        self.nextID += 1
        let id = self.nextID
        let older = self.sessions[peer]?.inbound
        self.sessions[peer]?.inbound = (id, stream)
        if let older {
            self.logger.debug("closing an older inbound pubsub stream", metadata: ["p2p.peer": "\(peer)"])
            await older.stream.close()
        }
        return id
    }

    private func inboundClosed(_ peer: PeerID, id: UInt64) {
        if self.sessions[peer]?.inbound?.id == id {
            self.sessions[peer]?.inbound = nil
        }
    }

    private func stop() async {
        self.phase = .stopped
        let sessions = self.sessions
        self.sessions = [:]
        for session in sessions.values {
            for waiter in session.waiters {
                waiter.resume(returning: false)
            }
            if let inbound = session.inbound {
                await inbound.stream.close()
            }
        }
        self.registry.close()
        self.jobContinuation.finish()
        self.routerEventContinuation.finish()
        self.eventContinuation.finish()
        self.logger.debug("gossipsub stopped")
    }

    // MARK: Streams

    /// Reads a peer's inbound pubsub stream into the driver, one complete frame at a time.
    private nonisolated func serveInbound(_ stream: P2PStream) async {
        let peer = stream.remotePeer
        guard let id = await self.inboundOpened(stream) else {
            await stream.close()
            return
        }
        guard await self.waitUntilRegistered(peer) else {
            await stream.close()
            await self.inboundClosed(peer, id: id)
            return
        }
        let maxSize = self.configuration.router.maxReceiveSize
        var buffer = ByteBuffer()
        do {
            reading: while var chunk = try await stream.read() {
                buffer.writeBuffer(&chunk)
                while buffer.readableBytes > 0 {
                    // Measure the next frame on a copy of the indices (the bytes are shared), then cut it off.
                    var probe = buffer
                    let body: ByteBuffer?
                    do {
                        body = try probe.readUVarintLengthPrefixedSlice(maxLength: maxSize)
                    } catch {
                        // The driver sees the same bad prefix, penalises the peer and throws.
                        try await self.driver.bytesReceived(from: peer, buffer)
                        throw GossipSubError(.malformedRPC, "bad RPC frame length: \(error.message)")
                    }
                    guard body != nil, let frame = buffer.readSlice(length: probe.readerIndex - buffer.readerIndex)
                    else { break }
                    try await self.driver.bytesReceived(from: peer, frame)
                }
                buffer.discardReadBytes()
                if Task.isCancelled { break reading }
            }
        } catch let error as GossipSubError {
            self.logger.debug(
                "closing an inbound pubsub stream after a bad frame",
                metadata: ["p2p.peer": "\(peer)", "p2p.error": "\(error.message)"]
            )
        } catch {
            self.logger.trace(
                "inbound pubsub stream ended",
                metadata: ["p2p.peer": "\(peer)", "p2p.error": "\(error)"]
            )
        }
        await stream.close()
        await self.inboundClosed(peer, id: id)
    }

    /// Opens an outbound pubsub stream; `nil` when the peer speaks none of our protocols or is not connected.
    private nonisolated func openOutbound(to peer: PeerID, attempts: Int) async -> P2PStream? {
        let protocols = self.configuration.protocols.map(\.rawValue)
        for attempt in 0..<attempts {
            do {
                return try await self.host.newStream(to: peer, protocols: protocols)
            } catch let error as P2PHostError where error.code == .protocolNotSupported || error.code == .notConnected {
                self.logger.trace("no pubsub stream", metadata: ["p2p.peer": "\(peer)", "p2p.error": "\(error)"])
                return nil
            } catch {
                self.logger.debug(
                    "opening a pubsub stream failed",
                    metadata: ["p2p.peer": "\(peer)", "p2p.error": "\(error)"]
                )
                guard attempt + 1 < attempts, !Task.isCancelled else { return nil }
                try? await self.clock.sleep(for: .milliseconds(100 << attempt))
            }
        }
        return nil
    }

    /// Watches an outbound stream (the peer never writes on it): when it ends, asks the writer for a new one.
    private nonisolated func monitor(_ stream: P2PStream, peer: PeerID, session: UInt64, generation: UInt64) {
        self.jobContinuation.yield { [registry] in
            do {
                while try await stream.read() != nil {}
            } catch {}
            registry.enqueue(.streamEnded(generation: generation), to: peer, session: session)
        }
    }

    /// Owns a peer's outbound stream: opens it, registers the peer with the router, writes the queued frames
    /// and re-opens the stream (with backoff after repeated resets) when it fails.
    private nonisolated func runWriter(
        peer: PeerID,
        session: UInt64,
        outbox: AsyncStream<GossipSubOutboxItem>
    ) async {
        guard let first = await self.openOutbound(to: peer, attempts: 3) else {
            await self.sessionFailed(peer, session: session)
            return
        }
        var logger = self.logger
        logger[metadataKey: "p2p.peer"] = "\(peer)"
        var generation: UInt64 = 1
        var current: P2PStream? = first
        self.monitor(first, peer: peer, session: session, generation: generation)
        let protocolID = GossipSubProtocolID(rawValue: first.protocolID) ?? .meshsub10
        let outbound = await self.connectionIsOutbound(peer, session: session)
        await self.driver.peerConnected(peer, outbound: outbound, protocolID: protocolID)
        await self.sessionRegistered(peer, session: session)
        logger.debug("pubsub peer ready", metadata: ["p2p.protocol": "\(protocolID.rawValue)"])

        var reopens = 0
        var lastReopen: UInt64 = 0
        func reopen() async -> P2PStream? {
            let heartbeats = self.registry.heartbeats
            if heartbeats &- lastReopen >= 10 {
                reopens = 0
            }
            if reopens > 0 {
                let delay = min(Duration.milliseconds(250) * (1 << min(reopens - 1, 7)), .seconds(30))
                try? await self.clock.sleep(for: delay)
            }
            reopens += 1
            lastReopen = heartbeats
            guard !Task.isCancelled, let stream = await self.openOutbound(to: peer, attempts: 1) else { return nil }
            generation += 1
            self.monitor(stream, peer: peer, session: session, generation: generation)
            logger.debug("pubsub stream re-opened")
            return stream
        }

        for await item in outbox {
            switch item {
            case .frames(let bytes):
                if current == nil {
                    current = await reopen()
                }
                guard let stream = current else { continue }
                do {
                    try await stream.write(bytes)
                } catch {
                    logger.debug("pubsub stream write failed", metadata: ["p2p.error": "\(error)"])
                    await stream.close()
                    current = await reopen()
                    try? await current?.write(bytes)
                }
            case .streamEnded(let ended):
                guard ended == generation, let stream = current else { continue }
                logger.debug("pubsub stream ended by the peer")
                await stream.close()
                current = await reopen()
            }
        }
        await current?.close()
    }

    // MARK: Heartbeat and events

    private nonisolated func runHeartbeats() async {
        let interval = Duration.nanoseconds(self.configuration.router.heartbeatInterval.nanoseconds)
        do {
            try await self.clock.sleep(for: self.configuration.firstHeartbeatDelay)
            while !Task.isCancelled {
                await self.heartbeat()
                try await self.clock.sleep(for: interval)
            }
        } catch {
            // Cancelled: the service stops.
        }
    }

    private nonisolated func runRouterEvents() async {
        for await event in self.routerEvents {
            self.eventContinuation.yield(event)
            if case .peerExchange(let topic, let peers, _) = event, self.configuration.dialsPeerExchange {
                await self.peerExchange(topic: topic, peers: peers)
            }
        }
    }

    /// Dials peer-exchange candidates whose addresses we know when the topic's mesh is below D_lo.
    private func peerExchange(topic: String, peers: [PeerID]) async {
        let router = self.configuration.router
        let mesh = await self.driver.state.meshPeers(topic).count
        guard mesh < router.meshDegreeLow else { return }
        let connected = Set(self.host.connectedPeers)
        let candidates = peers.filter { $0 != self.localPeerID && !connected.contains($0) }
        var dials = 0
        for peer in candidates where dials < router.meshDegree - mesh {
            guard let address = self.addressBook[peer]?.first(where: { $0.tcpSocketAddress != nil }) else { continue }
            let target = address.peerID == nil ? address.appending(.p2p(peer)) : address
            dials += 1
            self.logger.debug(
                "dialing a peer-exchange candidate",
                metadata: ["p2p.peer": "\(peer)", "gossip.topic": "\(topic)"]
            )
            self.jobContinuation.yield { [host] in
                _ = try? await host.dial(target)
            }
        }
    }
}
