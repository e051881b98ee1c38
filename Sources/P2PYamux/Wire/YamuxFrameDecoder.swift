package import NIOCore

/// Splits a byte stream into ``YamuxFrame``s (``YamuxFrameSplitter`` runs it on a connection).
///
/// Checks the version and type of every header and refuses Data frames longer than
/// ``maximumDataFrameLength`` before buffering their payload. Payloads are slices of the input.
package struct YamuxFrameDecoder: Sendable {
    /// The longest Data payload accepted (rust-yamux refuses bodies over 1 MiB).
    package let maximumDataFrameLength: Int

    /// Makes a decoder with a payload limit.
    package init(maximumDataFrameLength: Int = YamuxConfiguration.defaultMaximumInboundDataFrameLength) {
        self.maximumDataFrameLength = maximumDataFrameLength
    }

    /// Decodes one frame from the front of `buffer`, or returns `nil` if more bytes are needed.
    package func decodeFrame(from buffer: inout ByteBuffer) throws(YamuxError) -> YamuxFrame? {
        guard let header = try YamuxFrameHeader.peek(in: buffer) else {
            return nil
        }
        guard header.type == .data else {
            buffer.moveReaderIndex(forwardBy: YamuxFrameHeader.size)
            return YamuxFrame(header: header)
        }
        guard header.length <= self.maximumDataFrameLength else {
            throw .frameTooLarge(length: header.length, limit: self.maximumDataFrameLength)
        }
        let length = Int(header.length)
        guard buffer.readableBytes >= YamuxFrameHeader.size + length else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: YamuxFrameHeader.size)
        let payload = buffer.readSlice(length: length)!
        return YamuxFrame(header: header, payload: payload)
    }
}

/// Encodes frames into bytes.
package enum YamuxFrameEncoder {
    /// Encodes a header followed by its payload into one buffer (one write for the layer below).
    package static func encode(
        _ header: YamuxFrameHeader,
        payload: ByteBuffer?,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: YamuxFrameHeader.size + (payload?.readableBytes ?? 0))
        header.write(to: &buffer)
        if let payload {
            buffer.writeImmutableBuffer(payload)
        }
        return buffer
    }
}
