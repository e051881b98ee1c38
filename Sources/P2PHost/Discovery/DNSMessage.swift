// The DNS message format used by multicast DNS: RFC 1035 §4 (header, questions, resource records, name
// compression) with the mDNS reinterpretation of the class's top bit (RFC 6762 §5.4 and §10.2).

package import P2PCore

/// A DNS name: a list of labels, compared case-insensitively (ASCII), as DNS requires (RFC 1035 §2.3.3).
package struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels as raw bytes, most specific first (`["_p2p", "_udp", "local"]`). The root name has none.
    package let labels: [[UInt8]]

    /// The longest label on the wire (RFC 1035 §2.3.4).
    package static let maxLabelLength = 63
    /// The longest name on the wire, counting length bytes and the final zero (RFC 1035 §2.3.4).
    package static let maxWireLength = 255

    /// A name from its labels; throws when a label is empty or too long, or the whole name is too long.
    package init(labels: [[UInt8]]) throws(P2PHostError) {
        var wireLength = 1
        for label in labels {
            guard !label.isEmpty else {
                throw P2PHostError(.protocolViolation, "DNS name has an empty label")
            }
            guard label.count <= Self.maxLabelLength else {
                throw P2PHostError(
                    .protocolViolation,
                    "DNS label of \(label.count) bytes exceeds \(Self.maxLabelLength) bytes"
                )
            }
            wireLength += 1 + label.count
        }
        guard wireLength <= Self.maxWireLength else {
            throw P2PHostError(
                .protocolViolation,
                "DNS name of \(wireLength) bytes exceeds \(Self.maxWireLength) bytes"
            )
        }
        self.labels = labels
    }

    /// A name from dotted text such as `_p2p._udp.local` (a trailing dot is allowed; labels cannot contain dots).
    package init(parsing text: String) throws(P2PHostError) {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.last == "" {
            parts.removeLast()
        }
        try self.init(labels: parts.map { Array($0.utf8) })
    }

    /// The number of bytes this name takes on the wire without compression.
    var wireLength: Int {
        self.labels.reduce(1) { $0 + 1 + $1.count }
    }

    /// This name with `label` in front (`peer` + `_p2p._udp.local` = `peer._p2p._udp.local`).
    package func prepending(_ label: String) throws(P2PHostError) -> DNSName {
        try DNSName(labels: [Array(label.utf8)] + self.labels)
    }

    /// Whether this name is `parent` with exactly one more label in front.
    package func isDirectChild(of parent: DNSName) -> Bool {
        self.labels.count == parent.labels.count + 1 && DNSName.equalLabels(self.labels.dropFirst(), parent.labels[...])
    }

    /// Dotted text, without a trailing dot.
    package var description: String {
        self.labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    /// Names are equal when their labels are equal ignoring ASCII case.
    package static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.labels.count == rhs.labels.count && equalLabels(lhs.labels[...], rhs.labels[...])
    }

    /// Hashes the lower-cased labels, consistent with `==`.
    package func hash(into hasher: inout Hasher) {
        for label in self.labels {
            hasher.combine(label.count)
            for byte in label {
                hasher.combine(Self.lowercased(byte))
            }
        }
    }

    private static func equalLabels(_ lhs: ArraySlice<[UInt8]>, _ rhs: ArraySlice<[UInt8]>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (left, right) in zip(lhs, rhs) {
            guard left.count == right.count else { return false }
            for (a, b) in zip(left, right) where Self.lowercased(a) != Self.lowercased(b) {
                return false
            }
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }
}

/// A DNS record type (RFC 1035 §3.2.2, RFC 3596, RFC 2782); unknown values are kept.
package struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit value on the wire.
    package let rawValue: UInt16

    /// A type from its wire value.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// An IPv4 host address.
    package static let a = DNSRecordType(rawValue: 1)
    /// A domain name pointer.
    package static let ptr = DNSRecordType(rawValue: 12)
    /// Text strings.
    package static let txt = DNSRecordType(rawValue: 16)
    /// An IPv6 host address.
    package static let aaaa = DNSRecordType(rawValue: 28)
    /// A service location.
    package static let srv = DNSRecordType(rawValue: 33)
    /// The "next secure" record mDNS uses for negative answers (RFC 6762 §6.1).
    package static let nsec = DNSRecordType(rawValue: 47)
    /// A question for any type.
    package static let any = DNSRecordType(rawValue: 255)

    /// The mnemonic (`PTR`) or `TYPE<n>`.
    package var description: String {
        switch self.rawValue {
        case 1: "A"
        case 12: "PTR"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 47: "NSEC"
        case 255: "ANY"
        default: "TYPE\(self.rawValue)"
        }
    }
}

/// One entry of the question section.
package struct DNSQuestion: Hashable, Sendable {
    /// The name asked about.
    package var name: DNSName
    /// The record type asked for.
    package var type: DNSRecordType
    /// The class without the top bit (1 = IN).
    package var recordClass: UInt16
    /// The mDNS "QU" bit: the asker prefers a unicast response (RFC 6762 §5.4).
    package var unicastResponse: Bool

    /// A question; the class defaults to IN.
    package init(name: DNSName, type: DNSRecordType, recordClass: UInt16 = 1, unicastResponse: Bool = false) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.unicastResponse = unicastResponse
    }
}

/// The data of a resource record, decoded for the types mDNS discovery uses.
package enum DNSRecordData: Hashable, Sendable {
    /// A PTR record: the name pointed to.
    case ptr(DNSName)
    /// A TXT record: its character-strings, each at most 255 bytes.
    case txt([[UInt8]])
    /// An A record.
    case a(IPv4Address)
    /// An AAAA record.
    case aaaa(IPv6Address)
    /// An SRV record (RFC 2782).
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// Any other type, with its raw data (names inside it are not decompressed).
    case other(type: DNSRecordType, bytes: [UInt8])

    /// The record type of this data.
    package var type: DNSRecordType {
        switch self {
        case .ptr: .ptr
        case .txt: .txt
        case .a: .a
        case .aaaa: .aaaa
        case .srv: .srv
        case .other(let type, _): type
        }
    }
}

/// One resource record of the answer, authority or additional section.
package struct DNSResourceRecord: Hashable, Sendable {
    /// The owner name.
    package var name: DNSName
    /// The class without the top bit (1 = IN).
    package var recordClass: UInt16
    /// The mDNS cache-flush bit: this record replaces cached ones of the same name and type (RFC 6762 §10.2).
    package var cacheFlush: Bool
    /// Seconds the record may be cached; 0 in a response announces that the record is gone ("goodbye").
    package var ttl: UInt32
    /// The typed data.
    package var data: DNSRecordData

    /// A record; the class defaults to IN.
    package init(name: DNSName, ttl: UInt32, data: DNSRecordData, recordClass: UInt16 = 1, cacheFlush: Bool = false) {
        self.name = name
        self.recordClass = recordClass
        self.cacheFlush = cacheFlush
        self.ttl = ttl
        self.data = data
    }
}

/// A whole DNS message (RFC 1035 §4.1).
package struct DNSMessage: Hashable, Sendable {
    /// The query identifier; mDNS uses 0 for multicast messages (RFC 6762 §18.1).
    package var id: UInt16
    /// The 16 flag bits of the header (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).
    package var flags: UInt16
    /// The question section.
    package var questions: [DNSQuestion]
    /// The answer section.
    package var answers: [DNSResourceRecord]
    /// The authority section.
    package var authorities: [DNSResourceRecord]
    /// The additional section.
    package var additionals: [DNSResourceRecord]

    /// The largest mDNS message, headers included (RFC 6762 §17); larger input is refused before parsing.
    package static let maxSize = 9000

    /// The QR bit: set in responses.
    package static let responseFlag: UInt16 = 0x8000
    /// The AA bit: mDNS responses set it (RFC 6762 §18.4).
    package static let authoritativeFlag: UInt16 = 0x0400

    /// A message.
    package init(
        id: UInt16 = 0,
        flags: UInt16 = 0,
        questions: [DNSQuestion] = [],
        answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = [],
        additionals: [DNSResourceRecord] = []
    ) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// Whether this is a response (QR set).
    package var isResponse: Bool { self.flags & Self.responseFlag != 0 }
    /// The opcode (0 = standard query; mDNS ignores others, RFC 6762 §18.3).
    package var opcode: UInt8 { UInt8((self.flags >> 11) & 0x0F) }
    /// The response code (mDNS ignores messages with a non-zero one, RFC 6762 §18.11).
    package var responseCode: UInt8 { UInt8(self.flags & 0x000F) }

    /// Every record of the answer, authority and additional sections.
    package var allRecords: [DNSResourceRecord] { self.answers + self.authorities + self.additionals }
}
