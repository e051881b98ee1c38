// The libp2p Noise secure channel as a SwiftNIO handler
// (https://github.com/libp2p/specs/blob/master/noise/README.md).

package import Crypto
public import Logging
public import NIOCore
public import P2PCore

/// Secures a connection with libp2p Noise (`Noise_XX_25519_ChaChaPoly_SHA256`).
///
/// Place it right after the multistream-select round that chose `/noise`. Inbound it takes raw
/// bytes and emits plaintext `ByteBuffer`s; outbound it takes plaintext `ByteBuffer`s and emits
/// encrypted frames of at most 65535 bytes.
///
/// The secured channel is a byte stream (frame boundaries carry no meaning), so writes are packed into
/// frames: writes until a flush share a frame (one seal and one tag for all of them), a write that does
/// not fit starts the next frame, and only a write larger than a frame is cut. A bulk frame is sealed
/// straight from the written buffers (through the system's OpenSSL), so a header and its payload
/// written separately are not joined by copying. A write's promise completes with the frame that
/// carries its last byte.
///
/// The handler drives a ``NoiseHandshakeStateMachine`` and then a ``NoiseTransportState``; it only
/// carries out their actions. Writes made before the handshake completes are held back and sent,
/// in order, right after it. On success it fires ``NoiseHandshakeCompleted`` as a user inbound event
/// and succeeds the handshake promise, before any plaintext read. Any failure (garbage, a bad
/// signature, a wrong peer ID, a tampered or truncated frame) fails the promise and pending writes,
/// fires the ``NoiseError`` and closes the connection.
public final class NoiseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// Raw bytes from the network.
    public typealias InboundIn = ByteBuffer
    /// Decrypted plaintext.
    public typealias InboundOut = ByteBuffer
    /// Plaintext to send.
    public typealias OutboundIn = ByteBuffer
    /// Encrypted frames.
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking(NoiseHandshakeStateMachine)
        case transport(NoiseTransportState)
        case failed
    }

    private var state: State
    /// Cuts frames out of the reads; taken out while a read is processed, so re-entrant calls see it empty.
    private var frameAssembler = NoiseFrameAssembler()
    private var handshakePromise: EventLoopPromise<NoiseHandshakeResult>?
    /// Writes held back until the handshake completes.
    private var pendingWrites: CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)> = []
    /// The writes of the frame being filled (transport phase); they never exceed one frame's plaintext.
    private var frameWrites: CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)> = []
    /// The readable bytes in `frameWrites`.
    private var frameBytes = 0
    /// The pieces of the frame being sealed (kept for their capacity).
    private var frameParts: [ByteBuffer] = []
    private var inboundPlaintext: ByteBuffer?
    /// The size of the read being processed: the plaintext of all its frames goes into one buffer of about this size.
    private var inboundReadSize = 0
    private let logger: Logger
    /// Set while a burst of reads is processed: flushes asked for meanwhile wait for `channelReadComplete`, so that
    /// everything the burst caused (a multistream-select answer, Yamux frames) leaves in one socket write.
    private var isInReadBurst = false
    private var flushDeferred = false

    /// A handler for one connection.
    ///
    /// - Parameters:
    ///   - role: ``NoiseRole/initiator`` on the side that dialled, ``NoiseRole/responder`` otherwise.
    ///   - configuration: Our identity and Noise static key.
    ///   - expectedRemotePeer: The peer ID named by the dialled address (`/p2p/…`), if any; the
    ///     handshake fails with ``NoiseError/Code/peerIDMismatch`` when the remote proves another identity.
    ///   - handshakePromise: Completed with the remote identity, or failed with the handshake error.
    ///   - logger: Receives debug messages about handshake completion and failures.
    public convenience init(
        role: NoiseRole,
        configuration: NoiseConfiguration,
        expectedRemotePeer: PeerID? = nil,
        handshakePromise: EventLoopPromise<NoiseHandshakeResult>? = nil,
        logger: Logger = NoiseHandler.disabledLogger
    ) {
        self.init(
            role: role,
            configuration: configuration,
            ephemeralKey: Curve25519.KeyAgreement.PrivateKey(),
            expectedRemotePeer: expectedRemotePeer,
            handshakePromise: handshakePromise,
            logger: logger
        )
    }

    /// A handler with a given ephemeral key, for deterministic tests.
    package init(
        role: NoiseRole,
        configuration: NoiseConfiguration,
        ephemeralKey: Curve25519.KeyAgreement.PrivateKey,
        expectedRemotePeer: PeerID?,
        handshakePromise: EventLoopPromise<NoiseHandshakeResult>?,
        logger: Logger
    ) {
        self.state = .handshaking(
            NoiseHandshakeStateMachine(
                role: role,
                configuration: configuration,
                ephemeralKey: ephemeralKey,
                expectedRemotePeer: expectedRemotePeer
            )
        )
        self.handshakePromise = handshakePromise
        self.logger = logger
    }

    /// A logger that discards everything (the default).
    public static var disabledLogger: Logger {
        Logger(label: "p2p.noise", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    // MARK: - Lifecycle

    /// Starts the handshake if the channel is already active.
    public func handlerAdded(context: ChannelHandlerContext) {
        self.frameAssembler = NoiseFrameAssembler(allocator: context.channel.allocator)
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    /// Fails whatever is still pending.
    public func handlerRemoved(context: ChannelHandlerContext) {
        let error = NoiseError.channelClosed("the Noise handler was removed from the pipeline")
        self.failPending(error)
    }

    /// Starts the handshake: the initiator sends message 1.
    public func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    /// Processes buffered bytes as end of stream, then fails an unfinished handshake.
    public func channelInactive(context: ChannelHandlerContext) {
        self.endReadBurst(context: context)
        self.endOfInput(context: context)
        if case .handshaking = self.state {
            self.fail(
                NoiseError.handshakeIncomplete("the connection closed during the Noise handshake"),
                context: context
            )
        }
        context.fireChannelInactive()
    }

    /// Treats a half-closure as end of stream, then forwards the event.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.endReadBurst(context: context)
            self.endOfInput(context: context)
            if case .handshaking = self.state {
                self.fail(
                    NoiseError.handshakeIncomplete("the peer closed its side during the Noise handshake"),
                    context: context
                )
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Inbound

    /// Splits bytes into frames and feeds them to the handshake or transport state.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .failed = self.state {
            return
        }
        let buffer = Self.unwrapInboundIn(data)
        self.isInReadBurst = true
        self.inboundReadSize = buffer.readableBytes
        var assembler = self.takeFrameAssembler()
        do {
            try assembler.process(buffer) { frame in
                try self.frameReceived(frame, context: context)
            }
        } catch {
            self.fail(error, context: context)
        }
        self.frameAssembler = assembler
        self.deliverPlaintext(context: context)
    }

    /// Passes the end of the burst on (handlers behind flush there), then sends everything written during it at once.
    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        self.endReadBurst(context: context)
    }

    private func endReadBurst(context: ChannelHandlerContext) {
        self.isInReadBurst = false
        self.flushIfDeferred(context: context)
    }

    private func flushIfDeferred(context: ChannelHandlerContext) {
        if self.flushDeferred {
            self.flushDeferred = false
            self.sealFrame(context: context)
            context.flush()
        }
    }

    /// Moves the assembler out (leaving an empty one), so that its held-back bytes stay uniquely referenced.
    private func takeFrameAssembler() -> NoiseFrameAssembler {
        let assembler = self.frameAssembler
        self.frameAssembler = NoiseFrameAssembler(allocator: assembler.allocator)
        return assembler
    }

    private func endOfInput(context: ChannelHandlerContext) {
        if case .failed = self.state {
            return
        }
        var assembler = self.takeFrameAssembler()
        do {
            try assembler.finish()
        } catch {
            self.fail(error, context: context)
        }
        self.deliverPlaintext(context: context)
    }

    private func frameReceived(_ frame: ByteBuffer, context: ChannelHandlerContext) throws {
        switch self.state {
        case .handshaking(var machine):
            let action = machine.messageReceived(frame)
            self.state = .handshaking(machine)
            switch action {
            case .sendMessage(let message):
                try self.writeHandshakeMessage(message, context: context)
                context.flush()
            case .sendMessageAndComplete(let message, let result, let transport):
                try self.writeHandshakeMessage(message, context: context)
                self.complete(result, transport: transport, context: context)
            case .complete(let result, let transport):
                self.complete(result, transport: transport, context: context)
            case .fail(let error):
                throw error
            case .doNothing:
                break
            }
        case .transport(var transport):
            var output =
                self.inboundPlaintext
                ?? context.channel.allocator.buffer(capacity: max(frame.readableBytes, self.inboundReadSize))
            self.inboundPlaintext = nil
            try transport.decrypt(frame: frame, appendingTo: &output)
            self.state = .transport(transport)
            self.inboundPlaintext = output
        case .failed:
            break
        }
    }

    private func deliverPlaintext(context: ChannelHandlerContext) {
        guard let plaintext = self.inboundPlaintext else {
            return
        }
        self.inboundPlaintext = nil
        if case .transport = self.state, plaintext.readableBytes > 0 {
            context.fireChannelRead(Self.wrapInboundOut(plaintext))
        }
    }

    // MARK: - Outbound

    /// Adds `data` to the frame being filled, or holds it back until the handshake completes.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = Self.unwrapOutboundIn(data)
        switch self.state {
        case .handshaking:
            self.pendingWrites.append((plaintext, promise))
        case .transport:
            self.queue(plaintext, promise: promise, context: context)
        case .failed:
            promise?.fail(NoiseError.channelClosed("write after the Noise channel failed"))
        }
    }

    /// Seals the frame being filled and flushes; during the handshake there is nothing to flush yet (completion
    /// flushes), and during a read burst the flush waits for its end.
    public func flush(context: ChannelHandlerContext) {
        switch self.state {
        case .handshaking:
            break
        case .transport where self.isInReadBurst:
            self.flushDeferred = true
        case .transport:
            self.sealFrame(context: context)
            context.flush()
        case .failed:
            context.flush()
        }
    }

    /// Sends what a deferred flush holds before closing: data flushed before a close goes out.
    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.flushIfDeferred(context: context)
        context.close(mode: mode, promise: promise)
    }

    /// Writes of at most this many bytes (a Yamux header, a window update) move to the next frame with the write that
    /// follows them when that one does not fit the frame being filled: a header stays with its payload, so each Yamux
    /// frame of ours starts a Noise frame and the peer never has to join a Yamux frame from two.
    static let carriedWriteLength = 64

    /// Adds a write to the frame being filled. A write that does not fit starts the next frame (with the small writes
    /// right before it, see ``carriedWriteLength``); one larger than a frame is cut into full frames. Full frames are
    /// sealed at once (one that ends with a small write when the next write comes); the rest waits for a flush.
    private func queue(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard case .transport(let transport) = self.state else {
            promise?.fail(NoiseError.channelClosed("write after the Noise channel failed"))
            return
        }
        let chunk = transport.outboundChunkLength
        var plaintext = plaintext
        let length = plaintext.readableBytes
        if self.frameBytes + length > chunk {
            var carried = 0
            var carriedBytes = 0
            if length <= chunk {
                for (buffer, _) in self.frameWrites.reversed() {
                    let size = buffer.readableBytes
                    guard size <= Self.carriedWriteLength, carriedBytes + size + length <= chunk else { break }
                    carried += 1
                    carriedBytes += size
                }
            }
            guard self.sealFrame(keepingLast: carried, context: context) else {
                promise?.fail(NoiseError.channelClosed("write after the Noise channel failed"))
                return
            }
            while plaintext.readableBytes > chunk {
                self.frameWrites.append((plaintext.readSlice(length: chunk)!, nil))
                self.frameBytes += chunk
                guard self.sealFrame(context: context) else {
                    promise?.fail(NoiseError.channelClosed("write after the Noise channel failed"))
                    return
                }
            }
        }
        self.frameWrites.append((plaintext, promise))
        self.frameBytes += plaintext.readableBytes
        // A full frame is sealed at once, unless it ends with a small write that may yet go with the next one.
        if self.frameBytes == chunk, plaintext.readableBytes > Self.carriedWriteLength {
            self.sealFrame(context: context)
        }
    }

    /// Seals the writes of the frame being filled, except the last `kept`, into one frame and passes it on; its
    /// promise completes the promises of the writes sealed. Returns false when the channel failed instead.
    @discardableResult
    private func sealFrame(keepingLast kept: Int = 0, context: ChannelHandlerContext) -> Bool {
        guard case .transport(var transport) = self.state else {
            return false
        }
        let count = self.frameWrites.count - kept
        guard count > 0 else {
            return true
        }
        var promise: EventLoopPromise<Void>?
        var length = 0
        for _ in 0..<count {
            let (buffer, writePromise) = self.frameWrites.removeFirst()
            if buffer.readableBytes > 0 {
                self.frameParts.append(buffer)
                length += buffer.readableBytes
            }
            promise = Self.chain(promise, writePromise)
        }
        self.frameBytes -= length
        var output = context.channel.allocator.buffer(capacity: transport.encryptedLength(ofPlaintextLength: length))
        if length > 0 {
            do {
                try transport.encryptFrame(gathering: self.frameParts, plaintextLength: length, appendingTo: &output)
            } catch {
                self.frameParts.removeAll(keepingCapacity: true)
                promise?.fail(error)
                self.fail(error, context: context)
                return false
            }
            self.state = .transport(transport)
        }
        self.frameParts.removeAll(keepingCapacity: true)
        // When only empty writes were sealed, the empty buffer still completes their promises in order.
        context.write(Self.wrapOutboundOut(output), promise: promise)
        return true
    }

    /// One promise for several writes: `next` completes when `current` does (writes complete in order).
    private static func chain(
        _ current: EventLoopPromise<Void>?,
        _ next: EventLoopPromise<Void>?
    ) -> EventLoopPromise<Void>? {
        guard let current else { return next }
        if let next {
            current.futureResult.cascade(to: next)
        }
        return current
    }

    private func writeHandshakeMessage(_ message: ByteBuffer, context: ChannelHandlerContext) throws {
        var frame = context.channel.allocator.buffer(
            capacity: NoiseFrameDecoder.lengthPrefixSize + message.readableBytes
        )
        try NoiseFrameEncoder.writeFrame(message, to: &frame)
        context.write(Self.wrapOutboundOut(frame), promise: nil)
    }

    // MARK: - Outcomes

    private func start(context: ChannelHandlerContext) {
        guard case .handshaking(var machine) = self.state else {
            return
        }
        let action = machine.start()
        self.state = .handshaking(machine)
        switch action {
        case .sendMessage(let message):
            do {
                try self.writeHandshakeMessage(message, context: context)
                context.flush()
            } catch {
                self.fail(error, context: context)
            }
        case .doNothing:
            break
        }
    }

    private func complete(
        _ result: NoiseHandshakeResult,
        transport: NoiseTransportState,
        context: ChannelHandlerContext
    ) {
        self.state = .transport(transport)
        self.logger.debug(
            "Noise handshake completed",
            metadata: ["p2p.peer": "\(result.remotePeerID)"]
        )
        // Writes made during the handshake go first, in order, before anything the event triggers.
        while let (plaintext, promise) = self.pendingWrites.popFirst() {
            self.queue(plaintext, promise: promise, context: context)
        }
        // Within a read (the usual case), the last handshake message waits for the end of the burst, so that what the
        // completion causes (a muxer proposal, the muxer's first frames) leaves in the same socket write.
        self.flush(context: context)
        context.fireUserInboundEventTriggered(NoiseHandshakeCompleted(result: result))
        let promise = self.handshakePromise
        self.handshakePromise = nil
        promise?.succeed(result)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        if case .failed = self.state {
            return
        }
        self.state = .failed
        self.inboundPlaintext = nil
        self.logger.debug("Noise channel failed; closing", metadata: ["error": "\(error)"])
        self.failPending(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: any Error) {
        self.frameBytes = 0
        while let (_, promise) = self.frameWrites.popFirst() {
            promise?.fail(error)
        }
        while let (_, promise) = self.pendingWrites.popFirst() {
            promise?.fail(error)
        }
        let promise = self.handshakePromise
        self.handshakePromise = nil
        promise?.fail(error)
    }
}

@available(*, unavailable)
extension NoiseHandler: Sendable {}
