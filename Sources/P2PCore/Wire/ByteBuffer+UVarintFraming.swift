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
