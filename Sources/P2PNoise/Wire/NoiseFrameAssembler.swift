// libp2p Noise wire format (https://github.com/libp2p/specs/blob/master/noise/README.md#wire-format):
// every handshake and transport message is `noise_message_len` (2 bytes, big-endian) then the message.

package import NIOCore

/// Cuts Noise frames out of the reads of a connection, copying only the frames that straddle two reads.
///
/// Whole frames come out as slices of the read that carried them. Only a frame split across reads is gathered into a
/// buffer of its own: its head at the end of one read, its tail from the next. (A cumulating decoder would instead
/// append every read that follows a split frame to the leftover, copying nearly every byte when reads are not a
/// multiple of the frame size.) The framing rules are ``NoiseFrameDecoder``'s: a length over the limit is
/// ``NoiseError/Code/frameTooLarge``, bytes left at end of stream are ``NoiseError/Code/truncatedFrame``.
package struct NoiseFrameAssembler {
    private let decoder: NoiseFrameDecoder
    /// The allocator of the buffers that gather split frames.
    package let allocator: ByteBufferAllocator
    /// The start (length prefix and possibly some body bytes) of a frame the reads so far did not complete.
    private var partial: ByteBuffer?

    /// An assembler for frames of up to `maximumFrameLength` bytes, gathering split frames into buffers from
    /// `allocator`.
    package init(
        maximumFrameLength: Int = NoiseFrameDecoder.maximumMessageLength,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        self.decoder = NoiseFrameDecoder(maximumFrameLength: maximumFrameLength)
        self.allocator = allocator
    }

    /// The bytes of an incomplete frame held back for the next read.
    package var bufferedBytes: Int { self.partial?.readableBytes ?? 0 }

    /// Passes every frame that `read` completes to `body`, in order, without the length prefix.
    ///
    /// - Throws: ``NoiseError/Code/frameTooLarge`` for a length prefix over the limit, or whatever `body` throws.
    package mutating func process(
        _ read: ByteBuffer,
        _ body: (ByteBuffer) throws -> Void
    ) throws {
        var read = read
        if var partial = self.partial {
            self.partial = nil
            guard try self.complete(&partial, from: &read) else {
                self.partial = partial
                return
            }
            var decoder = self.decoder
            // `partial` now holds exactly one whole frame.
            if let frame = try decoder.decode(buffer: &partial) {
                try body(frame)
            }
        }
        var decoder = self.decoder
        while let frame = try decoder.decode(buffer: &read) {
            try body(frame)
        }
        if read.readableBytes > 0 {
            self.partial = self.holdBack(read)
        }
    }

    /// Ends the stream: bytes of an incomplete frame are a ``NoiseError/Code/truncatedFrame`` error.
    package mutating func finish() throws(NoiseError) {
        guard let partial = self.partial, partial.readableBytes > 0 else { return }
        self.partial = nil
        let expected = partial.getInteger(at: partial.readerIndex, endianness: .big, as: UInt16.self)
        throw .truncatedFrame(
            buffered: partial.readableBytes,
            expected: expected.map { Int($0) + NoiseFrameDecoder.lengthPrefixSize }
        )
    }

    /// Copies bytes from the front of `read` into `partial` until it holds one whole frame; returns whether it does.
    private func complete(_ partial: inout ByteBuffer, from read: inout ByteBuffer) throws -> Bool {
        let prefixSize = NoiseFrameDecoder.lengthPrefixSize
        if partial.readableBytes < prefixSize {
            let missing = min(prefixSize - partial.readableBytes, read.readableBytes)
            var head = read.readSlice(length: missing)!
            partial.writeBuffer(&head)
            guard partial.readableBytes == prefixSize else { return false }
        }
        let length = Int(partial.getInteger(at: partial.readerIndex, endianness: .big, as: UInt16.self)!)
        guard length <= self.decoder.maximumFrameLength else {
            throw NoiseError.frameTooLarge(length: length, limit: self.decoder.maximumFrameLength)
        }
        let missing = min(prefixSize + length - partial.readableBytes, read.readableBytes)
        var body = read.readSlice(length: missing)!
        partial.writeBuffer(&body)
        return partial.readableBytes == prefixSize + length
    }

    /// A buffer of its own for the start of an incomplete frame, with room for the whole frame when its length is
    /// known (so that completing it does not grow the buffer).
    private func holdBack(_ rest: ByteBuffer) -> ByteBuffer {
        let prefixSize = NoiseFrameDecoder.lengthPrefixSize
        let length = rest.getInteger(at: rest.readerIndex, endianness: .big, as: UInt16.self).map(Int.init)
        var held = self.allocator.buffer(capacity: length.map { $0 + prefixSize } ?? prefixSize)
        held.writeImmutableBuffer(rest)
        return held
    }
}
