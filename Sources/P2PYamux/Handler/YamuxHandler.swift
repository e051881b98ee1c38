package import Logging
package import NIOCore

/// Runs a Yamux session on a connection channel: it sits after a ``YamuxFrameSplitter`` and
/// drives ``YamuxSessionStateMachine`` and ``KeepaliveStateMachine``, creating one ``YamuxStreamChannel`` per
/// stream.
///
/// Each callback feeds an event to a machine and carries out the returned action; the protocol rules live in the
/// machines. Frames written while a read burst is processed are flushed once, at `channelReadComplete`.
package final class YamuxHandler: ChannelDuplexHandler {
    /// Decoded frames.
    package typealias InboundIn = YamuxFrame
    /// Nothing is passed on inbound: streams get the data.
    package typealias InboundOut = Never
    /// Nobody writes into the connection through this handler; streams do.
    package typealias OutboundIn = Never
    /// Encoded frames.
    package typealias OutboundOut = ByteBuffer

    private var machine: YamuxSessionStateMachine
    private var keepalive: KeepaliveStateMachine?
    private var keepaliveTimer: Scheduled<Void>?
    private let configuration: YamuxConfiguration
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var streams: [UInt32: YamuxStreamChannel] = [:]
    private var streamsWithReads: [YamuxStreamChannel] = []
    private var isInReadBurst = false
    /// The outbound stream being opened whose SYN has not been sent yet (it goes out with the stream's first frame).
    private var streamAwaitingSYN: UInt32?
    private var needsFlush = false
    private var started = false
    private var sessionClosed = false
    private let inboundStreams: AsyncStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>.Continuation?

    /// Makes a handler for `role`; `inboundStreams` receives remote-opened streams when the configuration has no
    /// inbound initializer.
    package init(
        role: YamuxRole,
        configuration: YamuxConfiguration,
        logger: Logger,
        inboundStreams: AsyncStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>.Continuation? = nil
    ) {
        self.machine = YamuxSessionStateMachine(role: role, configuration: configuration)
        if let interval = configuration.keepaliveInterval {
            self.keepalive = KeepaliveStateMachine(interval: interval, timeout: configuration.keepaliveTimeout)
        }
        self.configuration = configuration
        self.logger = logger
        self.inboundStreams = inboundStreams
    }

    // MARK: Lifecycle

    /// Remembers the context; starts the session if the connection is already active.
    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    /// Ends the session: streams fail, timers stop.
    package func handlerRemoved(context: ChannelHandlerContext) {
        self.tearDown(error: YamuxError.sessionClosed("the Yamux handler was removed"))
        self.context = nil
    }

    /// Starts the session (its keepalive timer).
    package func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    /// The connection closed: every open stream fails with `sessionClosed`.
    package func channelInactive(context: ChannelHandlerContext) {
        self.tearDown(error: YamuxError.sessionClosed("the connection closed"))
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !self.started else { return }
        self.started = true
        if let action = self.keepalive?.sessionStarted(now: context.eventLoop.now) {
            self.handleKeepalive(action)
            self.flushIfNeeded()
        }
    }

    private func tearDown(error: YamuxError) {
        guard !self.sessionClosed else { return }
        self.sessionClosed = true
        self.keepalive?.sessionEnded()
        self.keepaliveTimer?.cancel()
        self.keepaliveTimer = nil
        _ = self.machine.sessionClosed()
        let streams = self.streams
        self.streams.removeAll()
        self.streamsWithReads.removeAll()
        for stream in streams.values {
            stream.receiveStreamError(error)
        }
        self.inboundStreams?.finish()
    }

    // MARK: Inbound

    /// Feeds one decoded frame to the session machine and carries out its action.
    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        self.isInReadBurst = true
        let now = context.eventLoop.now
        self.keepalive?.frameReceived(now: now)
        switch self.machine.frameReceived(frame.header, now: now) {
        case .doNothing:
            break
        case .stream(let id, let effects):
            self.apply(effects, streamID: id, payload: frame.payload, context: context)
        case .refuseStream(let id, let error):
            self.logger.debug(
                "refusing stream",
                metadata: ["p2p.stream": "\(id)", "reason": "\(error.message)"]
            )
            self.writeFrame(.windowUpdate(streamID: id, flags: .rst))
        case .resetStream(let id, let error):
            self.logger.debug("resetting stream", metadata: ["p2p.stream": "\(id)", "reason": "\(error.message)"])
            self.writeFrame(.windowUpdate(streamID: id, flags: .rst))
            self.streams.removeValue(forKey: id)?.receiveStreamError(error)
        case .sendPingReply(let opaque):
            self.writeFrame(.ping(opaque: opaque, ack: true))
        case .pingReplyReceived(let opaque):
            if case .roundTripMeasured(let rtt, let next)? = self.keepalive?.pongReceived(opaque: opaque, now: now) {
                self.machine.roundTripTimeMeasured(rtt)
                self.schedule(at: next)
            }
        case .peerGoingAway:
            self.logger.debug("peer sent Go Away; no new streams")
        case .closeSession(let code, let error):
            self.closeSession(goAway: code, error: error, context: context)
        }
    }

    private func apply(
        _ effects: YamuxSessionStateMachine.StreamEffects,
        streamID id: UInt32,
        payload: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        let stream: YamuxStreamChannel?
        if effects.opened {
            self.writeFrame(.windowUpdate(streamID: id, flags: .ack, delta: self.machine.initialWindowDelta))
            self.streamOpened(context: context)
            stream = self.makeInboundStream(id: id, context: context)
        } else {
            stream = self.streams[id]
        }
        if effects.deliverData {
            if let stream {
                stream.receiveData(payload)
                self.markForReadDelivery(stream)
            } else if case .sendWindowUpdate(let delta) = self.machine.bytesConsumed(
                streamID: id,
                count: payload.readableBytes,
                now: context.eventLoop.now
            ) {
                self.writeFrame(.windowUpdate(streamID: id, delta: delta))
            }
        }
        if effects.windowUpdate > 0 {
            self.writeFrame(.windowUpdate(streamID: id, delta: effects.windowUpdate))
        }
        guard let stream else { return }
        if effects.reset {
            self.logger.trace("stream reset by peer", metadata: ["p2p.stream": "\(id)"])
            self.streams[id] = nil
            stream.receiveStreamError(YamuxError.streamReset(streamID: id))
            return
        }
        if effects.sendWindowIncreased {
            stream.sendWindowOpened()
        }
        if effects.inputClosed {
            stream.receiveInputClosed()
            self.markForReadDelivery(stream)
        }
        if effects.finished {
            self.streams[id] = nil
            stream.receiveStreamFinished()
        }
    }

    private func markForReadDelivery(_ stream: YamuxStreamChannel) {
        if !self.streamsWithReads.contains(where: { $0 === stream }) {
            self.streamsWithReads.append(stream)
        }
    }

    /// Delivers the reads buffered during the burst to their streams, then flushes once.
    package func channelReadComplete(context: ChannelHandlerContext) {
        while !self.streamsWithReads.isEmpty {
            let streams = self.streamsWithReads
            self.streamsWithReads.removeAll(keepingCapacity: true)
            for stream in streams {
                stream.parentReadComplete()
            }
        }
        self.isInReadBurst = false
        self.flushIfNeeded()
        context.fireChannelReadComplete()
    }

    /// Passes the connection's writability on to every stream channel.
    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for stream in self.streams.values {
            stream.parentWritabilityChanged(writable)
        }
        context.fireChannelWritabilityChanged()
    }

    /// A decoding error closes the session with Go Away (protocol error); other errors pass on.
    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? YamuxError {
            // A decoding error: the byte stream cannot be trusted any more.
            self.closeSession(goAway: .protocolError, error: error, context: context)
        } else {
            context.fireErrorCaught(error)
        }
    }

    // MARK: Outbound

    /// Closing the connection sends a normal Go Away first.
    package func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, case .sendGoAway(let code) = self.machine.goAway(.normal) {
            self.writeFrame(.goAway(code))
            self.needsFlush = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    private func closeSession(goAway code: YamuxGoAwayCode?, error: YamuxError, context: ChannelHandlerContext) {
        guard !self.sessionClosed else { return }
        self.logger.debug("closing session", metadata: ["reason": "\(error.message)"])
        if let code, case .sendGoAway(let code) = self.machine.goAway(code) {
            self.writeFrame(.goAway(code))
        }
        self.needsFlush = false
        context.flush()
        self.tearDown(error: error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    // MARK: Frames

    /// From this payload size on, a Data frame's header and payload are written as two buffers instead of being
    /// copied into one (below it, one write costs less than the copy).
    static let separatePayloadLength = 4096

    private func writeFrame(
        _ header: YamuxFrameHeader,
        payload: ByteBuffer? = nil,
        promise: EventLoopPromise<Void>? = nil
    ) {
        guard let context = self.context else {
            promise?.fail(YamuxError.sessionClosed("the Yamux handler is not in a pipeline"))
            return
        }
        if let payload, payload.readableBytes >= Self.separatePayloadLength {
            // A large payload goes on as it is, behind its header: Noise seals the two together without joining them.
            var bytes = context.channel.allocator.buffer(capacity: YamuxFrameHeader.size)
            header.write(to: &bytes)
            context.write(Self.wrapOutboundOut(bytes), promise: nil)
            context.write(Self.wrapOutboundOut(payload), promise: promise)
        } else {
            let bytes = YamuxFrameEncoder.encode(header, payload: payload, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
        }
        self.needsFlush = true
    }

    /// Flushes written frames, unless a read burst is in progress (it flushes at its end).
    func flushIfNeeded() {
        guard self.needsFlush, !self.isInReadBurst, let context = self.context else { return }
        self.needsFlush = false
        context.flush()
    }

    // MARK: Keepalive

    private func handleKeepalive(_ action: KeepaliveStateMachine.TimerFiredAction) {
        switch action {
        case .sendPing(let opaque, let next):
            self.writeFrame(.ping(opaque: opaque, ack: false))
            self.schedule(at: next)
        case .reschedule(let deadline):
            self.schedule(at: deadline)
        case .closeConnection:
            guard let context = self.context, let keepalive = self.keepalive else { return }
            self.closeSession(
                goAway: .normal,
                error: .keepaliveTimeout(after: keepalive.timeout),
                context: context
            )
        case .doNothing:
            break
        }
    }

    /// The first stream of the session sends the first ping, in the same flush as the stream's first frame.
    private func streamOpened(context: ChannelHandlerContext) {
        if let action = self.keepalive?.streamOpened(now: context.eventLoop.now) {
            self.handleKeepalive(action)
        }
    }

    private func schedule(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.keepaliveTimer?.cancel()
        self.keepaliveTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.keepaliveTimerFired()
        }
    }

    private func keepaliveTimerFired() {
        self.keepaliveTimer = nil
        guard let context = self.context, let action = self.keepalive?.timerFired(now: context.eventLoop.now) else {
            return
        }
        self.handleKeepalive(action)
        self.flushIfNeeded()
    }

    // MARK: Streams

    private func makeInboundStream(id: UInt32, context: ChannelHandlerContext) -> YamuxStreamChannel {
        let stream = YamuxStreamChannel(
            streamID: id,
            parent: context.channel,
            multiplexer: self,
            configuration: self.configuration
        )
        self.streams[id] = stream
        self.logger.trace("inbound stream", metadata: ["p2p.stream": "\(id)"])
        if let initializer = self.configuration.inboundStreamInitializer {
            stream.configure(initializer: initializer, promise: nil)
        } else if let inboundStreams = self.inboundStreams {
            stream.configure(
                initializer: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let asyncChannel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        inboundStreams.yield(asyncChannel)
                    }
                },
                promise: nil
            )
        } else {
            stream.configure(initializer: { $0.eventLoop.makeSucceededVoidFuture() }, promise: nil)
        }
        return stream
    }

    /// Opens an outbound stream: sends SYN, then runs `initializer` on its channel.
    func openStream<Output: Sendable>(
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>,
        promise: EventLoopPromise<Output>
    ) {
        guard let context = self.context, !self.sessionClosed else {
            promise.fail(YamuxError.sessionClosed("the session is closed"))
            return
        }
        switch self.machine.openStream(now: context.eventLoop.now) {
        case .failure(let error):
            promise.fail(error)
        case .success(let id):
            let stream = YamuxStreamChannel(
                streamID: id,
                parent: context.channel,
                multiplexer: self,
                configuration: self.configuration
            )
            self.streams[id] = stream
            self.logger.trace("outbound stream", metadata: ["p2p.stream": "\(id)"])
            let delta = self.machine.initialWindowDelta
            if delta == 0 {
                // SYN rides on the stream's first frame: usually the data the initializer writes at once (a
                // multistream-select proposal), so opening a stream costs one frame, not two.
                self.streamAwaitingSYN = id
            } else {
                self.writeFrame(.windowUpdate(streamID: id, flags: .syn, delta: delta))
            }
            stream.configure(initializer: initializer, promise: promise)
            // Nothing written at once: the SYN goes out alone.
            if !self.synFlag(for: id).isEmpty {
                self.writeFrame(.windowUpdate(streamID: id, flags: .syn))
            }
            self.streamOpened(context: context)
            self.flushIfNeeded()
        }
    }

    /// `.syn` for the first frame of the stream being opened, which then no longer waits for it.
    private func synFlag(for streamID: UInt32) -> YamuxFrameFlags {
        guard self.streamAwaitingSYN == streamID else { return [] }
        self.streamAwaitingSYN = nil
        return .syn
    }

    /// Sends Go Away (normal): no new streams either way; existing ones continue.
    func goAway() {
        if case .sendGoAway(let code) = self.machine.goAway(.normal) {
            self.writeFrame(.goAway(code))
            self.flushIfNeeded()
        }
    }

    /// Number of live streams in the session machine.
    package var streamCount: Int { self.machine.streamCount }

    /// The largest receive window any stream reached so far.
    package var largestReceiveWindow: Int { self.machine.largestReceiveWindow }

    /// The latest measured ping round-trip time.
    package var roundTripTime: TimeAmount? { self.machine.roundTripTime }

    // MARK: Calls from stream channels

    func reserveSendWindow(for stream: YamuxStreamChannel, upTo wanted: Int) -> Int {
        self.machine.reserveSendWindow(streamID: stream.streamID, upTo: wanted)
    }

    func writeData(_ data: ByteBuffer, for stream: YamuxStreamChannel, promise: EventLoopPromise<Void>?) {
        self.writeFrame(
            .data(
                streamID: stream.streamID,
                flags: self.synFlag(for: stream.streamID),
                length: UInt32(data.readableBytes)
            ),
            payload: data,
            promise: promise
        )
    }

    func closeOutput(of stream: YamuxStreamChannel, promise: EventLoopPromise<Void>?) {
        switch self.machine.closeOutput(streamID: stream.streamID) {
        case .sendFin(let finished):
            self.writeFrame(
                .windowUpdate(streamID: stream.streamID, flags: self.synFlag(for: stream.streamID).union(.fin)),
                promise: promise
            )
            if finished {
                self.streams[stream.streamID] = nil
                stream.receiveStreamFinished()
            }
        case .doNothing:
            promise?.succeed()
        }
    }

    func bytesConsumed(_ count: Int, by stream: YamuxStreamChannel) {
        guard let context = self.context else { return }
        let action = self.machine.bytesConsumed(streamID: stream.streamID, count: count, now: context.eventLoop.now)
        if case .sendWindowUpdate(let delta) = action {
            self.writeFrame(.windowUpdate(streamID: stream.streamID, delta: delta))
            self.flushIfNeeded()
        }
    }

    func streamReaderClosed(_ stream: YamuxStreamChannel) {
        if self.machine.readerClosed(streamID: stream.streamID) {
            self.streams[stream.streamID] = nil
        }
    }

    func streamResetLocally(_ stream: YamuxStreamChannel) {
        // A stream reset before its SYN went out is unknown to the peer: nothing to send.
        if case .sendReset = self.machine.resetStream(streamID: stream.streamID),
            self.synFlag(for: stream.streamID).isEmpty
        {
            self.writeFrame(.windowUpdate(streamID: stream.streamID, flags: .rst))
            self.flushIfNeeded()
        }
        self.streams[stream.streamID] = nil
    }
}

@available(*, unavailable)
extension YamuxHandler: Sendable {}
