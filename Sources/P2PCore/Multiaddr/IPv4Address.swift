/// An IPv4 address as carried in an `/ip4/` multiaddr component.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a big-endian 32-bit number (`127.0.0.1` is `0x7F00_0001`).
    public var value: UInt32

    /// Creates an address from its four octets.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Creates an address from its 4 network-order bytes, or `nil` for another length.
    public init?<Bytes: Collection<UInt8>>(bytes: Bytes) {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Parses dotted-quad text (`192.0.2.1`). Octets with leading zeros are rejected as ambiguous.
    ///
    /// - Throws: ``P2PCoreError/Code/invalidMultiaddr`` naming the problem.
    public init(parsing text: some StringProtocol) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else {
            throw P2PCoreError(.invalidMultiaddr, "'\(text.prefix(64))' is not a dotted-quad IPv4 address")
        }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = Self.parseOctet(part) else {
                throw P2PCoreError(
                    .invalidMultiaddr,
                    "'\(text.prefix(64))' has an invalid IPv4 octet '\(part.prefix(8))'"
                )
            }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    static func parseOctet(_ part: some StringProtocol) -> UInt8? {
        let digits = Array(part.utf8)
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        guard digits.count == 1 || digits[0] != UInt8(ascii: "0") else { return nil }
        return UInt8(exactly: digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
    }

    /// The 4 network-order bytes.
    public var bytes: [UInt8] {
        [
            UInt8(self.value >> 24), UInt8(truncatingIfNeeded: self.value >> 16),
            UInt8(truncatingIfNeeded: self.value >> 8), UInt8(truncatingIfNeeded: self.value),
        ]
    }

    /// Dotted-quad text.
    public var description: String {
        self.bytes.map { String($0) }.joined(separator: ".")
    }
}
