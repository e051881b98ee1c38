public import NIOCore

/// Splits a byte stream into `<uvarint length><message>` frames and emits each message.
///
/// Use it with `ByteToMessageHandler`. A frame larger than ``maxFrameLength`` is an error
/// (``P2PCoreError/Code/tooLarge``) raised before its body is buffered.
public struct UVarintLengthPrefixedFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// One message body.
    public typealias InboundOut = ByteBuffer

    /// The largest message accepted, in bytes.
    public let maxFrameLength: Int

    /// Creates a decoder with a message size limit.
    public init(maxFrameLength: Int) {
        self.maxFrameLength = maxFrameLength
    }

    /// Decodes one frame if it has fully arrived.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try buffer.readUVarintLengthPrefixedSlice(maxLength: self.maxFrameLength)
    }

    /// Decodes what is left at EOF; an incomplete frame at EOF is ``P2PCoreError/Code/truncated``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try self.decode(buffer: &buffer) {
            return frame
        }
        guard buffer.readableBytes == 0 else {
            throw P2PCoreError(.truncated, "stream ended inside a frame (\(buffer.readableBytes) bytes pending)")
        }
        return nil
    }
}
