/// An IPv6 address as carried in an `/ip6/` multiaddr component.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The 16 network-order bytes.
    public private(set) var bytes: [UInt8]

    /// Creates an address from its 16 network-order bytes, or `nil` for another length.
    public init?<Bytes: Collection<UInt8>>(bytes: Bytes) {
        guard bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses RFC 4291 text: eight groups of 1 to 4 hex digits, at most one `::`, optionally ending in
    /// a dotted-quad IPv4 address (`::ffff:192.0.2.1`). Zone identifiers (`%eth0`) are not accepted.
    ///
    /// - Throws: ``P2PCoreError/Code/invalidMultiaddr`` naming the problem.
    public init(parsing text: some StringProtocol) throws {
        let text = Substring(text)
        func invalid(_ reason: String) -> P2PCoreError {
            P2PCoreError(.invalidMultiaddr, "'\(text.prefix(64))' is not an IPv6 address: \(reason)")
        }
        guard text.utf8.count <= 45 else { throw invalid("too long") }
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { throw invalid("more than one '::'") }

        func groups(_ part: Substring, allowIPv4Tail: Bool) throws -> [UInt16] {
            guard !part.isEmpty else { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt16] = []
            for (index, piece) in pieces.enumerated() {
                if allowIPv4Tail && index == pieces.count - 1 && piece.contains(".") {
                    let v4 = try IPv4Address(parsing: piece)
                    result.append(UInt16(v4.value >> 16))
                    result.append(UInt16(truncatingIfNeeded: v4.value))
                } else {
                    guard (1...4).contains(piece.utf8.count), let group = UInt16(piece, radix: 16),
                        piece.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
                    else {
                        throw invalid("bad group '\(piece.prefix(8))'")
                    }
                    result.append(group)
                }
            }
            return result
        }

        let allGroups: [UInt16]
        if halves.count == 2 {
            let head = try groups(halves[0], allowIPv4Tail: false)
            let tail = try groups(halves[1], allowIPv4Tail: true)
            guard head.count + tail.count <= 7 else { throw invalid("too many groups around '::'") }
            allGroups = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            allGroups = try groups(halves[0], allowIPv4Tail: true)
            guard allGroups.count == 8 else { throw invalid("expected 8 groups, found \(allGroups.count)") }
        }
        self.bytes = allGroups.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    /// RFC 5952 text: lower-case hex, the longest run of two or more zero groups shortened to `::`,
    /// and IPv4-mapped addresses as `::ffff:a.b.c.d`.
    public var description: String {
        let groups = (0..<8).map { UInt16(self.bytes[2 * $0]) << 8 | UInt16(self.bytes[2 * $0 + 1]) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return "::ffff:" + IPv4Address(bytes: self.bytes[12...])!.description
        }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hexGroups(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hexGroups(0..<8) }
        return hexGroups(0..<bestStart) + "::" + hexGroups((bestStart + bestLength)..<8)
    }
}
