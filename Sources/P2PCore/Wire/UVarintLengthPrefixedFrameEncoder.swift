public import NIOCore

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
