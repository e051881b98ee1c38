// libp2p Noise wire format (https://github.com/libp2p/specs/blob/master/noise/README.md#wire-format):
// every handshake and transport message is `noise_message_len` (2 bytes, big-endian) then the message.

package import NIOCore

/// Prefixes each outbound Noise message with its 2-byte big-endian length.
package struct NoiseFrameEncoder: MessageToByteEncoder {
    /// One Noise message (at most 65535 bytes).
    package typealias OutboundIn = ByteBuffer

    /// An encoder.
    package init() {}

    /// Writes `data` as one frame; a message longer than 65535 bytes is an error.
    package func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        try Self.writeFrame(data, to: &out)
    }

    /// Writes the length prefix and `message` to `out`.
    static func writeFrame(_ message: ByteBuffer, to out: inout ByteBuffer) throws(NoiseError) {
        guard message.readableBytes <= NoiseFrameDecoder.maximumMessageLength else {
            throw .messageTooLarge(length: message.readableBytes, limit: NoiseFrameDecoder.maximumMessageLength)
        }
        out.reserveCapacity(minimumWritableBytes: NoiseFrameDecoder.lengthPrefixSize + message.readableBytes)
        out.writeInteger(UInt16(message.readableBytes), endianness: .big)
        out.writeImmutableBuffer(message)
    }
}
