public import NIOCore

// Length-prefixed messages as used by identify, kad, pubsub and other protobuf-over-stream protocols:
// `<uvarint length><message>` (https://github.com/multiformats/unsigned-varint#practical-maximum-of-9-bytes-for-security).

extension ByteBuffer {
    /// Reads one `<uvarint length><bytes>` frame.
    ///
    /// - Returns: the frame body, or `nil` (reader index unchanged) when the frame has not fully arrived.
    /// - Throws: ``P2PCoreError/Code/tooLarge`` when the announced length exceeds `maxLength` (as soon as
    ///   the length prefix is readable), or a varint error. The reader index is then unchanged.
    public mutating func readUVarintLengthPrefixedSlice(maxLength: Int) throws(P2PCoreError) -> ByteBuffer? {
        var view = self
        guard let length = try view.readUVarint() else { return nil }
        guard length <= UInt64(maxLength) else {
            throw P2PCoreError(.tooLarge, "frame of \(length) bytes exceeds the limit of \(maxLength)")
        }
        guard let body = view.readSlice(length: Int(length)) else { return nil }
        self = view
        return body
    }

    /// Writes `<uvarint length><bytes>` and returns the number of bytes written.
    @discardableResult
    public mutating func writeUVarintLengthPrefixed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int {
        self.writeUVarint(UInt64(bytes.count)) + self.writeBytes(bytes)
    }
}

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

/// Prefixes each outbound message with its uvarint length.
public struct UVarintLengthPrefixedFrameEncoder: MessageToByteEncoder {
    /// One message body.
    public typealias OutboundIn = ByteBuffer

    /// Creates an encoder.
    public init() {}

    /// Writes `<uvarint length><message>`.
    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeUVarint(UInt64(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
