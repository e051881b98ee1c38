public import Logging
public import NIOCore

/// Runs multistream-select (``MultistreamSelectStateMachine``) on a channel, then steps aside.
///
/// Add it where the negotiation starts (on a fresh TCP connection, inside Noise, on a new Yamux
/// stream). The dialer writes its header and first proposal as soon as the channel is active. When a
/// protocol is chosen the handler, in this order:
/// 1. succeeds ``negotiatedProtocol`` with the protocol ID; callbacks run synchronously on the event
///    loop, so they can add the protocol's handlers with `pipeline.syncOperations`;
/// 2. passes any bytes that arrived after the final message (pipelined application data) to the next
///    handler with `fireChannelRead`;
/// 3. removes itself from the pipeline.
///
/// On failure (protocol violation, no common protocol, limits, timeout, EOF) it fails
/// ``negotiatedProtocol`` with a ``P2PCoreError`` and closes the channel.
///
/// With ``MultistreamSelectConfiguration/optimisticDialer`` the dialer succeeds ``negotiatedProtocol``
/// right after writing its header and single proposal (bytes the callbacks write leave in the same
/// socket write), then stays in the pipeline until the echo arrives and completes
/// ``optimisticConfirmation``; a failure after that point fails the confirmation and is sent through
/// `fireErrorCaught` before the channel closes.
///
/// The listener's answer is flushed after the leftover bytes were passed on, so that the chosen
/// protocol's first reply (a Noise message) leaves in the same socket write.
///
/// Pipeline position: `[transport] → MultistreamSelectHandler → [protocol handlers added on success]`.
public final class MultistreamSelectHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// Bytes from the peer.
    public typealias InboundIn = ByteBuffer
    /// Leftover bytes forwarded after negotiation.
    public typealias InboundOut = ByteBuffer
    /// Negotiation messages.
    public typealias OutboundOut = ByteBuffer

    private enum Phase {
        case waitingForActive
        case negotiating
        case finished
    }

    private var machine: MultistreamSelectStateMachine
    private let configuration: MultistreamSelectConfiguration
    private let promise: EventLoopPromise<String>
    private let logger: Logger
    private var phase: Phase = .waitingForActive
    private var timeoutTask: Scheduled<Void>?
    /// The protocol reported early in optimistic mode (its echo is still expected).
    private let optimisticProtocol: String?
    private let confirmationPromise: EventLoopPromise<Void>?

    /// The negotiated protocol ID, or the error that ended the negotiation.
    ///
    /// A handler that is created but never added to a pipeline must be given up with
    /// ``abandon(because:)`` so this future completes.
    public var negotiatedProtocol: EventLoopFuture<String> { self.promise.futureResult }

    /// In optimistic mode, succeeds when the listener's echo confirms the early result and fails with the
    /// negotiation's error otherwise (before the error is fired and the channel closes); `nil` in other modes.
    public var optimisticConfirmation: EventLoopFuture<Void>? { self.confirmationPromise?.futureResult }

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - role: dialer (protocols to propose, in order) or listener (protocols supported).
    ///   - configuration: limits and timeout.
    ///   - eventLoop: the channel's event loop (the promise lives there).
    ///   - logger: receives `debug` lines for the outcome; never payload bytes.
    ///
    /// - Precondition: optimistic dialing needs a dialer with exactly one proposal.
    public init(
        role: MultistreamSelectRole,
        configuration: MultistreamSelectConfiguration = .init(),
        eventLoop: any EventLoop,
        logger: Logger = Logger(label: "p2p.multistream", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.machine = MultistreamSelectStateMachine(role: role, configuration: configuration)
        self.configuration = configuration
        if configuration.optimisticDialer {
            guard case .dialer(let proposals) = role, proposals.count == 1 else {
                preconditionFailure("optimistic multistream-select needs a dialer with exactly one proposal")
            }
            self.optimisticProtocol = proposals[0]
            self.confirmationPromise = eventLoop.makePromise(of: Void.self)
        } else {
            self.optimisticProtocol = nil
            self.confirmationPromise = nil
        }
        self.promise = eventLoop.makePromise(of: String.self)
        self.logger = logger
    }

    /// Fails ``negotiatedProtocol`` for a handler that could not be added to a pipeline.
    public func abandon(because error: any Error) {
        guard self.phase == .waitingForActive else { return }
        self.phase = .finished
        self.promise.fail(error)
        self.confirmationPromise?.fail(error)
    }

    /// Starts at once if the channel is already active.
    public func handlerAdded(context: ChannelHandlerContext) {
        // Also covers a handler added to a channel that has already closed (no channelInactive follows).
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.channelClosed()
        }
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    private func channelClosed() {
        guard self.phase != .finished else { return }
        self.end(failing: P2PCoreError(.connectionClosed, "the channel closed during multistream-select"))
    }

    /// Fails the negotiation if the handler is removed before it finished.
    public func handlerRemoved(context: ChannelHandlerContext) {
        if self.phase != .finished {
            self.end(
                failing: P2PCoreError(
                    .connectionClosed,
                    "multistream-select handler removed before negotiation finished"
                )
            )
        }
    }

    /// Starts the negotiation.
    public func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    /// Fails the negotiation if the channel closes first.
    public func channelInactive(context: ChannelHandlerContext) {
        if self.phase != .finished {
            self.perform(self.machine.inputClosed(), context: context)
        }
        context.fireChannelInactive()
    }

    /// Fails the negotiation when the peer half-closes (EOF with `allowRemoteHalfClosure`) before it finished.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, self.phase == .negotiating {
            self.perform(self.machine.inputClosed(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Feeds the peer's bytes to the machine.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.phase == .negotiating else {
            // Before start or after a failure: nothing here belongs to a negotiated protocol.
            return
        }
        self.perform(self.machine.bytesReceived(self.unwrapInboundIn(data)), context: context)
    }

    /// Swallowed while negotiating: no read was passed on.
    public func channelReadComplete(context: ChannelHandlerContext) {
        if self.phase == .finished {
            context.fireChannelReadComplete()
        }
    }

    /// Fails the negotiation with a pipeline error, then passes the error on.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.phase != .finished {
            self.end(failing: error)
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }

    private func start(context: ChannelHandlerContext) {
        guard self.phase == .waitingForActive else { return }
        self.phase = .negotiating
        if let timeout = self.configuration.timeout {
            let loopBoundContext = context.loopBound
            self.timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.timedOut(context: loopBoundContext.value, after: timeout)
            }
        }
        let start = self.machine.start()
        if case .send(let bytes) = start {
            context.write(self.wrapOutboundOut(bytes), promise: nil)
        }
        if let optimisticProtocol {
            self.logger.debug(
                "multistream-select proposed optimistically",
                metadata: ["p2p.protocol": "\(optimisticProtocol)"]
            )
            // The protocol's first bytes, written by the callbacks, join the proposal in one socket write.
            self.promise.succeed(optimisticProtocol)
        }
        if case .send = start {
            context.flush()
        }
    }

    private func timedOut(context: ChannelHandlerContext, after timeout: TimeAmount) {
        guard self.phase == .negotiating else { return }
        self.fail(
            P2PCoreError(.timedOut, "multistream-select did not finish within \(timeout)"),
            context: context
        )
    }

    private func perform(_ action: MultistreamSelectStateMachine.BytesReceivedAction, context: ChannelHandlerContext) {
        switch action {
        case .doNothing:
            break
        case .send(let bytes):
            context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
        case .negotiated(let chosen, let bytes, let leftover):
            if let bytes {
                context.write(self.wrapOutboundOut(bytes), promise: nil)
            }
            self.finish()
            self.logger.debug("multistream-select negotiated", metadata: ["p2p.protocol": "\(chosen)"])
            if self.optimisticProtocol == nil {
                self.promise.succeed(chosen)
            } else {
                self.confirmationPromise?.succeed()
            }
            if leftover.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(leftover))
                context.fireChannelReadComplete()
            }
            // After the leftover: the protocol's answer to it (a Noise message) leaves with ours.
            if bytes != nil {
                context.flush()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .failed(let error):
            self.fail(error, context: context)
        }
    }

    private func fail(_ error: P2PCoreError, context: ChannelHandlerContext) {
        self.logger.debug("multistream-select failed", metadata: ["p2p.error": "\(error)"])
        if self.end(failing: error) {
            // The protocol already runs on the early result: it learns of the failure from the pipeline.
            context.fireErrorCaught(error)
        }
        context.close(promise: nil)
    }

    /// Ends an unfinished negotiation with `error`: fails the result, or, when an optimistic result was already
    /// reported, the confirmation. Returns whether the result had been reported early.
    @discardableResult
    private func end(failing error: any Error) -> Bool {
        let reportedEarly = self.phase == .negotiating && self.optimisticProtocol != nil
        self.finish()
        if reportedEarly {
            self.confirmationPromise?.fail(error)
        } else {
            self.promise.fail(error)
        }
        return reportedEarly
    }

    private func finish() {
        self.phase = .finished
        self.timeoutTask?.cancel()
        self.timeoutTask = nil
    }
}

@available(*, unavailable)
extension MultistreamSelectHandler: Sendable {}

extension ChannelPipeline.SynchronousOperations {
    /// Adds a ``MultistreamSelectHandler`` at the end of the pipeline and returns its result.
    ///
    /// Call on the channel's event loop. Add the negotiated protocol's handlers in a callback on the
    /// returned future (it runs on the event loop before any leftover bytes are forwarded).
    public func addMultistreamSelect(
        role: MultistreamSelectRole,
        configuration: MultistreamSelectConfiguration = .init(),
        logger: Logger = Logger(label: "p2p.multistream", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> EventLoopFuture<String> {
        let handler = MultistreamSelectHandler(
            role: role,
            configuration: configuration,
            eventLoop: self.eventLoop,
            logger: logger
        )
        do {
            try self.addHandler(handler)
        } catch {
            handler.abandon(because: error)
            throw error
        }
        return handler.negotiatedProtocol
    }
}
