public import NIOCore

extension ByteBuffer {
    /// Writes the minimal multiformats varint encoding of `value` and returns the number of bytes written.
    ///
    /// - Precondition: `value <= UVarint.maxValue`.
    @discardableResult
    public mutating func writeUVarint(_ value: UInt64) -> Int {
        precondition(value <= UVarint.maxValue, "uvarint value \(value) needs more than 9 bytes")
        var rest = value
        var written = 0
        while rest >= 0x80 {
            written += self.writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        written += self.writeInteger(UInt8(rest))
        return written
    }

    /// Reads a multiformats varint.
    ///
    /// - Returns: the value, or `nil` (with the reader index unchanged) when the readable bytes end
    ///   before the varint does.
    /// - Throws: ``P2PCoreError`` for a non-minimal or overlong varint; the reader index is unchanged.
    public mutating func readUVarint() throws(P2PCoreError) -> UInt64? {
        let window = self.readableBytesView.prefix(UVarint.maxEncodedLength)
        guard let (value, length) = try UVarint.decodePrefix(window) else {
            return nil
        }
        self.moveReaderIndex(forwardBy: length)
        return value
    }
}
