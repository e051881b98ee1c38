public import NIOCore
public import P2PCore

/// The small actor that owns a ``GossipSubRouter`` and carries out its effects.
///
/// It is transport-agnostic: the host hands it each peer's inbound pubsub bytes with
/// ``bytesReceived(from:_:)`` and gives it a `send` closure that writes length-prefixed RPC frames to the
/// peer's outbound pubsub stream. The application validates messages with the `validate` closure and
/// receives accepted messages through `deliver`. Call ``heartbeat()`` every
/// ``GossipSubConfiguration/heartbeatInterval``.
public actor GossipSubDriver {
    /// Writes one or more RPC frames to a peer's outbound pubsub stream.
    public typealias Send = @Sendable (PeerID, ByteBuffer) async -> Void
    /// The application's validator for a message received from a peer.
    public typealias Validate = @Sendable (GossipMessage, PeerID) async -> GossipSubValidationResult
    /// Hands an accepted message to the application.
    public typealias Deliver = @Sendable (GossipMessage, GossipMessageID, PeerID) async -> Void
    /// Reports router events (for logging or dialing peer-exchange candidates).
    public typealias Events = @Sendable (GossipSubEvent) async -> Void

    private var router: GossipSubRouter
    private var rng: any RandomNumberGenerator & Sendable
    private var inbound: [PeerID: ByteBuffer] = [:]
    private let now: @Sendable () -> NIODeadline
    private let send: Send
    private let validate: Validate
    private let deliver: Deliver
    private let events: Events

    /// Creates a driver.
    ///
    /// - Parameters:
    ///   - router: the router, already configured.
    ///   - rng: randomness for peer sampling (the system generator in production, a seeded one in tests).
    ///   - now: the monotonic clock.
    public init(
        router: GossipSubRouter,
        rng: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        now: @escaping @Sendable () -> NIODeadline = { .now() },
        send: @escaping Send,
        validate: @escaping Validate,
        deliver: @escaping Deliver,
        events: @escaping Events = { _ in }
    ) {
        self.router = router
        self.rng = rng
        self.now = now
        self.send = send
        self.validate = validate
        self.deliver = deliver
        self.events = events
    }

    /// The router's current state, for inspection.
    public var state: GossipSubRouter { self.router }

    /// A peer's pubsub streams are open.
    public func peerConnected(
        _ peer: PeerID,
        outbound: Bool,
        protocolID: GossipSubProtocolID = .meshsub11,
        colocationKey: String? = nil
    ) async {
        await self.execute(
            self.router.peerConnected(peer, outbound: outbound, protocolID: protocolID, colocationKey: colocationKey)
        )
    }

    /// A peer is gone.
    public func peerDisconnected(_ peer: PeerID) async {
        self.inbound[peer] = nil
        await self.execute(self.router.peerDisconnected(peer, now: self.now()))
    }

    /// Bytes arrived on a peer's inbound pubsub stream; every complete RPC frame in them is handled.
    ///
    /// - Throws: ``GossipSubError`` for an oversized or malformed frame, after penalising the peer and
    ///   dropping its buffered bytes; the host should then reset the stream.
    public func bytesReceived(from peer: PeerID, _ bytes: ByteBuffer) async throws {
        self.inbound[peer, default: ByteBuffer()].writeImmutableBuffer(bytes)
        // The buffer stays in `inbound` between frames, so a call that arrives while this one awaits an
        // effect appends behind it and frames are still handed to the router in stream order.
        while var buffer = self.inbound.removeValue(forKey: peer) {
            let rpc: GossipSubRPC?
            do {
                rpc = try GossipSubRPC.readFrame(from: &buffer, maxSize: self.router.configuration.maxReceiveSize)
            } catch let error as GossipSubError {
                await self.execute(self.router.rpcDecodingFailed(from: peer, error: error))
                throw error
            }
            if buffer.readableBytes > 0 {
                buffer.discardReadBytes()
                self.inbound[peer] = buffer
            }
            guard let rpc else { return }
            await self.execute(self.router.rpcReceived(from: peer, rpc, now: self.now(), rng: &self.rng))
        }
    }

    /// Joins a topic.
    public func subscribe(_ topic: String) async {
        await self.execute(self.router.subscribe(topic, now: self.now(), rng: &self.rng))
    }

    /// Leaves a topic.
    public func unsubscribe(_ topic: String) async {
        await self.execute(self.router.unsubscribe(topic, now: self.now()))
    }

    /// Publishes `data` on `topic` and returns the message ID.
    ///
    /// - Throws: ``GossipSubError`` from ``GossipSubRouter/publish(topic:data:now:rng:)``.
    @discardableResult
    public func publish(topic: String, data: [UInt8]) async throws -> GossipMessageID {
        let (id, effects) = try self.router.publish(topic: topic, data: data, now: self.now(), rng: &self.rng)
        await self.execute(effects)
        return id
    }

    /// Runs one heartbeat.
    public func heartbeat() async {
        await self.execute(self.router.heartbeat(now: self.now(), rng: &self.rng))
    }

    private func execute(_ effects: [GossipSubEffect]) async {
        for effect in effects {
            switch effect {
            case .send(let rpc, let peer):
                var buffer = ByteBuffer()
                do {
                    try rpc.writeFrames(into: &buffer, maxFrameSize: self.router.configuration.maxSendSize)
                } catch {
                    // Unreachable: the router only emits messages that fit in a frame and splits the rest.
                    continue
                }
                await self.send(peer, buffer)
            case .validate(let message, let id, let source):
                let result = await self.validate(message, source)
                await self.execute(self.router.validationCompleted(messageID: id, result: result, now: self.now()))
            case .deliver(let message, let id, let source):
                await self.deliver(message, id, source)
            case .event(let event):
                await self.events(event)
            }
        }
    }
}
