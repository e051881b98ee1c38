// libp2p Noise wire format (https://github.com/libp2p/specs/blob/master/noise/README.md#wire-format):
// every handshake and transport message is `noise_message_len` (2 bytes, big-endian) then the message.

package import NIOCore

/// Splits an inbound byte stream into Noise messages, each prefixed by a 2-byte big-endian length.
///
/// The decoder yields the message bytes without the prefix. A prefix larger than
/// ``maximumFrameLength`` is an error, and so are bytes left over when the stream ends.
package struct NoiseFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// The decoded unit: one Noise message (handshake message or transport ciphertext).
    package typealias InboundOut = ByteBuffer

    /// The largest Noise message, `65535` bytes (libp2p noise spec, "Wire Format").
    package static let maximumMessageLength = Int(UInt16.max)
    /// The length of the big-endian length prefix.
    package static let lengthPrefixSize = 2

    /// The largest frame this decoder accepts (at most ``maximumMessageLength``).
    package let maximumFrameLength: Int

    /// A decoder that accepts frames of up to `maximumFrameLength` bytes (clamped to 0...65535).
    package init(maximumFrameLength: Int = NoiseFrameDecoder.maximumMessageLength) {
        self.maximumFrameLength = max(0, min(maximumFrameLength, Self.maximumMessageLength))
    }

    /// Returns the next complete frame, or `nil` when more bytes are needed.
    package mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else {
            return nil
        }
        guard Int(length) <= self.maximumFrameLength else {
            throw NoiseError.frameTooLarge(length: Int(length), limit: self.maximumFrameLength)
        }
        guard buffer.readableBytes >= Self.lengthPrefixSize + Int(length) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: Self.lengthPrefixSize)
        return buffer.readSlice(length: Int(length))
    }

    /// Returns the last complete frame; at end of stream, leftover bytes are a truncated frame.
    package mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try self.decode(buffer: &buffer) {
            return frame
        }
        guard seenEOF, buffer.readableBytes > 0 else {
            return nil
        }
        let expected = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self)
        throw NoiseError.truncatedFrame(
            buffered: buffer.readableBytes,
            expected: expected.map { Int($0) + Self.lengthPrefixSize }
        )
    }
}
