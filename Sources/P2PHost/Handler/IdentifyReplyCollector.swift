import NIOCore
import P2PCore
import P2PYamux

/// Asks for identify on a negotiated `/ipfs/id/1.0.0` stream, on its event loop: closes our side at once (the
/// request), gathers the peer's bytes until it closes its side (at most ``Identify/maxStreamBytes``), and completes
/// with the merged reply (``Identify/decodeReply(_:)``). A reply too large or malformed, or one carrying another peer's
/// key, resets the stream, so the peer does not take it for success; the stream is closed either way.
///
/// No task and no stream wrapper: the whole exchange runs in the stream's pipeline.
final class IdentifyReplyCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<IdentifyMessage>
    private let remotePeer: PeerID
    private var collected: ByteBuffer?
    private var done = false

    init(remotePeer: PeerID, promise: EventLoopPromise<IdentifyMessage>) {
        self.remotePeer = remotePeer
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.collected = context.channel.allocator.buffer(capacity: 0)
        context.close(mode: .output, promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(P2PHostError(.closed, "the identify stream closed before the reply ended"), context: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.done else { return }
        var bytes = Self.unwrapInboundIn(data)
        guard (self.collected?.readableBytes ?? 0) + bytes.readableBytes <= Identify.maxStreamBytes else {
            self.fail(
                P2PHostError(.messageTooLarge, "stream sent more than \(Identify.maxStreamBytes) bytes"),
                context: context
            )
            return
        }
        self.collected?.writeBuffer(&bytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.finish(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Like a read of a stream that ended: what arrived is the reply.
        self.finish(context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let yamuxError = error as? YamuxError, yamuxError.code == .streamReset {
            self.fail(P2PHostError(.streamReset, "the stream was reset", underlying: yamuxError), context: nil)
        } else {
            self.fail(P2PHostError(.closed, "the identify stream failed", underlying: error), context: nil)
        }
        context.close(promise: nil)
    }

    /// The peer closed its side: decodes the reply, then closes the stream (or resets it when the reply is bad).
    private func finish(context: ChannelHandlerContext) {
        guard !self.done, var bytes = self.collected else { return }
        self.collected = nil
        do {
            let message = try Identify.decodeReply(&bytes)
            if let publicKey = message.publicKey, !self.remotePeer.matches(publicKey) {
                throw P2PHostError(
                    .protocolViolation,
                    "identify from \(self.remotePeer) carries another peer's public key"
                )
            }
            self.done = true
            self.promise.succeed(message)
            context.close(promise: nil)
        } catch {
            self.fail(error, context: context)
        }
    }

    /// Fails the request once; with a `context`, resets the stream.
    private func fail(_ error: any Error, context: ChannelHandlerContext?) {
        guard !self.done else { return }
        self.done = true
        self.collected = nil
        self.promise.fail(error)
        if let context {
            context.triggerUserOutboundEvent(YamuxResetStreamEvent(), promise: nil)
            context.close(promise: nil)
        }
    }
}
