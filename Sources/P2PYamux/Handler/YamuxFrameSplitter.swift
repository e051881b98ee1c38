package import NIOCore

/// Cuts the connection's byte stream into ``YamuxFrame``s for the ``YamuxHandler`` behind it.
///
/// A frame that lies whole in one read is passed on as slices of that read; only a frame that straddles reads is
/// gathered into a buffer of its own, taking from the next reads just the bytes it still lacks. (NIO's
/// `ByteToMessageHandler` keeps the rest of a read and appends the whole next read to it; while earlier payloads, still
/// held by streams, share that buffer, each such append copies it. A peer whose Yamux frames do not start its Noise
/// frames, as most implementations send them, would have every read copied once more.)
///
/// Headers are checked as soon as they are complete (``YamuxFrameDecoder``): a bad version or type, or a Data frame
/// over the limit, fails before its payload is waited for. A failure is passed on as a ``YamuxError`` (the handler
/// closes the session) and later bytes are dropped; a frame cut short by the end of input is
/// ``YamuxError/Code/truncatedFrame``.
package final class YamuxFrameSplitter: ChannelInboundHandler, RemovableChannelHandler {
    /// Bytes from the connection (after Noise).
    package typealias InboundIn = ByteBuffer
    /// Whole frames.
    package typealias InboundOut = YamuxFrame

    private let decoder: YamuxFrameDecoder
    /// The bytes so far of a frame that straddles reads (never more than that one frame).
    private var partial: ByteBuffer?
    /// After a decoding error or the end of input, nothing more is decoded.
    private var stopped = false

    /// A splitter that refuses Data frames longer than `maximumDataFrameLength`.
    package init(maximumDataFrameLength: Int = YamuxConfiguration.defaultMaximumInboundDataFrameLength) {
        self.decoder = YamuxFrameDecoder(maximumDataFrameLength: maximumDataFrameLength)
    }

    /// Completes a straddling frame from the front of the read, then passes on every whole frame in it and keeps the
    /// start of the last one if it is cut off.
    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.stopped else { return }
        var input = Self.unwrapInboundIn(data)
        do {
            if var gathered = self.partial {
                self.partial = nil
                guard let frame = try self.complete(&gathered, from: &input) else {
                    self.partial = gathered
                    return
                }
                context.fireChannelRead(Self.wrapInboundOut(frame))
            }
            while !self.stopped, let frame = try self.decoder.decodeFrame(from: &input) {
                context.fireChannelRead(Self.wrapInboundOut(frame))
            }
            if !self.stopped, input.readableBytes > 0 {
                var rest = context.channel.allocator.buffer(capacity: Self.frameLength(startingWith: input))
                rest.writeBuffer(&input)
                self.partial = rest
            }
        } catch {
            self.fail(error, context: context)
        }
    }

    /// A frame cut short by the end of input is an error.
    package func channelInactive(context: ChannelHandlerContext) {
        self.endOfInput(context: context)
        context.fireChannelInactive()
    }

    /// The peer's half-closure ends the input: a frame cut short is an error.
    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.endOfInput(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Moves into `gathered` the bytes of `input` that its frame still lacks, and returns the frame once whole.
    private func complete(_ gathered: inout ByteBuffer, from input: inout ByteBuffer) throws -> YamuxFrame? {
        while true {
            if let frame = try self.decoder.decodeFrame(from: &gathered) {
                return frame
            }
            let missing = Self.frameLength(startingWith: gathered) - gathered.readableBytes
            guard missing > 0, input.readableBytes > 0 else { return nil }
            var bytes = input.readSlice(length: min(missing, input.readableBytes))!
            gathered.writeBuffer(&bytes)
        }
    }

    /// The length of the frame at the front of `bytes` (header and payload) as far as its header tells: a header's
    /// length while the header is incomplete. The header has passed the decoder's checks.
    private static func frameLength(startingWith bytes: ByteBuffer) -> Int {
        guard let header = try? YamuxFrameHeader.peek(in: bytes), header.type == .data else {
            return YamuxFrameHeader.size
        }
        return YamuxFrameHeader.size + Int(header.length)
    }

    private func endOfInput(context: ChannelHandlerContext) {
        guard !self.stopped else { return }
        self.stopped = true
        if let partial = self.partial, partial.readableBytes > 0 {
            self.partial = nil
            context.fireErrorCaught(YamuxError.truncatedFrame(leftover: partial.readableBytes))
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        self.stopped = true
        self.partial = nil
        context.fireErrorCaught(error)
    }
}

@available(*, unavailable)
extension YamuxFrameSplitter: Sendable {}
