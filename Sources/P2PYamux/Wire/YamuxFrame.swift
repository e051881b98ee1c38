package import NIOCore

/// One decoded Yamux frame: its header and, for Data frames, its payload.
package struct YamuxFrame: Hashable, Sendable {
    /// The frame header.
    package var header: YamuxFrameHeader
    /// The payload of a Data frame (a slice of the input, not a copy); empty for other types.
    package var payload: ByteBuffer

    /// Makes a frame.
    package init(header: YamuxFrameHeader, payload: ByteBuffer = ByteBuffer()) {
        self.header = header
        self.payload = payload
    }
}
