/// The identity of a pubsub message, as carried in IHAVE, IWANT and IDONTWANT.
///
/// The bytes are opaque: go-libp2p declares message IDs as `string` but fills them with arbitrary
/// bytes, so they are kept as bytes here.
public struct GossipMessageID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw ID bytes.
    public var bytes: [UInt8]

    /// Wraps raw ID bytes.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Orders IDs byte-wise, for stable output.
    public static func < (lhs: GossipMessageID, rhs: GossipMessageID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Lowercase hex of the ID bytes.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(self.bytes.count * 2)
        for byte in self.bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
