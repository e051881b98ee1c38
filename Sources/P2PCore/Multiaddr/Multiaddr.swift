// https://github.com/multiformats/multiaddr (README.md, protocols.csv)

/// A multiaddr: a self-describing network address such as `/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`.
///
/// Text form: `(/<protocol>/<value>)+`. Binary form (used inside protobufs): the concatenation of
/// `<uvarint code><value>`, where fixed-size values are raw and variable-size values carry a uvarint
/// length prefix. Supported protocols: `ip4`, `ip6`, `tcp`, `udp`, `dns`, `dns4`, `dns6`, `p2p`
/// (and its old name `ipfs` when parsing). Anything else is rejected with
/// ``P2PCoreError/Code/unknownMultiaddrProtocol``.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// One `/<protocol>/<value>` pair.
    public enum Component: Hashable, Sendable, CustomStringConvertible {
        /// `/ip4/<dotted quad>`, code 4.
        case ip4(IPv4Address)
        /// `/ip6/<RFC 4291 text>`, code 41.
        case ip6(IPv6Address)
        /// `/tcp/<port>`, code 6.
        case tcp(UInt16)
        /// `/udp/<port>`, code 273.
        case udp(UInt16)
        /// `/dns/<name>`, code 53.
        case dns(String)
        /// `/dns4/<name>`, code 54.
        case dns4(String)
        /// `/dns6/<name>`, code 55.
        case dns6(String)
        /// `/p2p/<peer ID>`, code 421.
        case p2p(PeerID)

        /// The multicodec code of the protocol.
        public var code: UInt64 {
            switch self {
            case .ip4: 4
            case .ip6: 41
            case .tcp: 6
            case .udp: 273
            case .dns: 53
            case .dns4: 54
            case .dns6: 55
            case .p2p: 421
            }
        }

        /// The protocol name used in text.
        public var protocolName: String {
            switch self {
            case .ip4: "ip4"
            case .ip6: "ip6"
            case .tcp: "tcp"
            case .udp: "udp"
            case .dns: "dns"
            case .dns4: "dns4"
            case .dns6: "dns6"
            case .p2p: "p2p"
            }
        }

        /// The value as text.
        public var valueDescription: String {
            switch self {
            case .ip4(let address): address.description
            case .ip6(let address): address.description
            case .tcp(let port), .udp(let port): String(port)
            case .dns(let name), .dns4(let name), .dns6(let name): name
            case .p2p(let id): id.description
            }
        }

        /// `/<protocol>/<value>`.
        public var description: String {
            "/\(self.protocolName)/\(self.valueDescription)"
        }

        fileprivate func write(to bytes: inout [UInt8]) {
            UVarint.encode(self.code, into: &bytes)
            switch self {
            case .ip4(let address): bytes.append(contentsOf: address.bytes)
            case .ip6(let address): bytes.append(contentsOf: address.bytes)
            case .tcp(let port), .udp(let port): bytes.append(contentsOf: [UInt8(port >> 8), UInt8(port & 0xFF)])
            case .dns(let name), .dns4(let name), .dns6(let name):
                UVarint.encode(UInt64(name.utf8.count), into: &bytes)
                bytes.append(contentsOf: name.utf8)
            case .p2p(let id):
                let idBytes = id.bytes
                UVarint.encode(UInt64(idBytes.count), into: &bytes)
                bytes.append(contentsOf: idBytes)
            }
        }
    }

    /// The longest binary multiaddr accepted, in bytes.
    public static let maxBinaryLength = 1024
    /// The longest text multiaddr accepted, in UTF-8 bytes.
    public static let maxTextLength = 2048
    /// The longest DNS name accepted, in UTF-8 bytes.
    public static let maxDNSNameLength = 255

    /// The components, outermost (network) first.
    public var components: [Component]

    /// Creates a multiaddr from components.
    ///
    /// DNS names are not checked here; a name containing `/` has no valid text form.
    public init(_ components: [Component]) {
        self.components = components
    }

    /// Parses the text form.
    ///
    /// - Throws: ``P2PCoreError/Code/unknownMultiaddrProtocol`` for an unsupported protocol name,
    ///   ``P2PCoreError/Code/invalidMultiaddr`` for anything else that is wrong (naming it).
    public init(parsing text: some StringProtocol) throws {
        let text = Substring(text)
        guard text.utf8.count <= Self.maxTextLength else {
            throw P2PCoreError(.tooLarge, "multiaddr text of \(text.utf8.count) bytes exceeds \(Self.maxTextLength)")
        }
        guard text.hasPrefix("/") else {
            throw P2PCoreError(.invalidMultiaddr, "multiaddr '\(text.prefix(64))' must start with '/'")
        }
        var parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 1 && parts.last == "" {
            parts.removeLast()  // one trailing slash is tolerated
        }
        guard parts != [""] else {
            throw P2PCoreError(.invalidMultiaddr, "multiaddr '/' has no components")
        }
        var components: [Component] = []
        var index = 0
        while index < parts.count {
            let name = parts[index]
            guard !name.isEmpty else {
                throw P2PCoreError(.invalidMultiaddr, "multiaddr '\(text.prefix(64))' has an empty protocol name")
            }
            guard index + 1 < parts.count else {
                if Self.knownNames.contains(String(name)) {
                    throw P2PCoreError(.invalidMultiaddr, "multiaddr protocol '\(name)' is missing its value")
                }
                throw Self.unknownName(name)
            }
            components.append(try Self.component(name: name, value: parts[index + 1]))
            index += 2
        }
        self.components = components
    }

    /// Parses the text form, returning `nil` when it is invalid (see ``init(parsing:)``).
    public init?(_ description: String) {
        guard let address = try? Multiaddr(parsing: description) else { return nil }
        self = address
    }

    /// Decodes the binary form.
    ///
    /// - Throws: ``P2PCoreError/Code/unknownMultiaddrProtocol`` for an unsupported code,
    ///   ``P2PCoreError/Code/invalidMultiaddr`` for anything else that is wrong.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws {
        guard bytes.count <= Self.maxBinaryLength else {
            throw P2PCoreError(.tooLarge, "multiaddr of \(bytes.count) bytes exceeds \(Self.maxBinaryLength)")
        }
        guard !bytes.isEmpty else {
            throw P2PCoreError(.invalidMultiaddr, "multiaddr bytes are empty")
        }
        var rest = ArraySlice(bytes)
        var components: [Component] = []
        while !rest.isEmpty {
            components.append(try Self.readComponent(&rest))
        }
        self.components = components
    }

    /// The binary form.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        for component in self.components {
            component.write(to: &bytes)
        }
        return bytes
    }

    /// The text form.
    public var description: String {
        self.components.map(\.description).joined()
    }

    /// The peer ID of a trailing `/p2p/` component, if any.
    public var peerID: PeerID? {
        guard case .p2p(let id) = self.components.last else { return nil }
        return id
    }

    /// This address with `component` added at the end.
    public func appending(_ component: Component) -> Multiaddr {
        Multiaddr(self.components + [component])
    }

    /// This address without a trailing `/p2p/` component.
    public func removingPeerID() -> Multiaddr {
        guard case .p2p = self.components.last else { return self }
        return Multiaddr(Array(self.components.dropLast()))
    }

    // MARK: - Parsing helpers

    private static let knownNames: Set<String> = ["ip4", "ip6", "tcp", "udp", "dns", "dns4", "dns6", "p2p", "ipfs"]

    private static func unknownName(_ name: Substring) -> P2PCoreError {
        P2PCoreError(.unknownMultiaddrProtocol, "multiaddr protocol '\(name.prefix(64))' is not supported")
    }

    private static func component(name: Substring, value: Substring) throws -> Component {
        switch name {
        case "ip4": return .ip4(try IPv4Address(parsing: value))
        case "ip6": return .ip6(try IPv6Address(parsing: value))
        case "tcp": return .tcp(try Self.port(value, name: name))
        case "udp": return .udp(try Self.port(value, name: name))
        case "dns": return .dns(try Self.dnsName(value))
        case "dns4": return .dns4(try Self.dnsName(value))
        case "dns6": return .dns6(try Self.dnsName(value))
        case "p2p", "ipfs":
            do {
                return .p2p(try PeerID(parsing: value))
            } catch let error as P2PCoreError {
                throw P2PCoreError(.invalidMultiaddr, "invalid /p2p/ value: \(error.message)", underlying: error)
            }
        default: throw Self.unknownName(name)
        }
    }

    private static func port(_ text: Substring, name: Substring) throws -> UInt16 {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = UInt16(text)
        else {
            throw P2PCoreError(.invalidMultiaddr, "'\(text.prefix(16))' is not a valid \(name) port (0-65535)")
        }
        return port
    }

    private static func dnsName(_ name: Substring) throws -> String {
        guard !name.isEmpty, name.utf8.count <= Self.maxDNSNameLength else {
            throw P2PCoreError(.invalidMultiaddr, "DNS name must be 1 to \(Self.maxDNSNameLength) bytes")
        }
        return String(name)
    }

    private static func readComponent(_ rest: inout ArraySlice<UInt8>) throws -> Component {
        guard let (code, codeLength) = try UVarint.decodePrefix(rest) else {
            throw P2PCoreError(.invalidMultiaddr, "multiaddr protocol code is truncated")
        }
        rest = rest.dropFirst(codeLength)

        func take(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
            guard rest.count >= count else {
                throw P2PCoreError(
                    .invalidMultiaddr,
                    "multiaddr \(what) value needs \(count) bytes, \(rest.count) remain"
                )
            }
            let value = rest.prefix(count)
            rest = rest.dropFirst(count)
            return value
        }
        func takeLengthPrefixed(_ what: String) throws -> ArraySlice<UInt8> {
            guard let (length, lengthLength) = try UVarint.decodePrefix(rest) else {
                throw P2PCoreError(.invalidMultiaddr, "multiaddr \(what) value length is truncated")
            }
            rest = rest.dropFirst(lengthLength)
            guard length <= UInt64(rest.count) else {
                throw P2PCoreError(
                    .invalidMultiaddr,
                    "multiaddr \(what) value claims \(length) bytes, \(rest.count) remain"
                )
            }
            return try take(Int(length), what)
        }
        func port(_ what: String) throws -> UInt16 {
            let value = try take(2, what)
            return UInt16(value[value.startIndex]) << 8 | UInt16(value[value.startIndex + 1])
        }
        func dnsName(_ what: String) throws -> String {
            let value = try takeLengthPrefixed(what)
            guard let name = UTF8Text.decode(value), !name.contains("/") else {
                throw P2PCoreError(.invalidMultiaddr, "multiaddr \(what) name is not valid UTF-8 without '/'")
            }
            return try Self.dnsName(Substring(name))
        }

        switch code {
        case 4: return .ip4(IPv4Address(bytes: try take(4, "ip4"))!)
        case 41: return .ip6(IPv6Address(bytes: try take(16, "ip6"))!)
        case 6: return .tcp(try port("tcp"))
        case 273: return .udp(try port("udp"))
        case 53: return .dns(try dnsName("dns"))
        case 54: return .dns4(try dnsName("dns4"))
        case 55: return .dns6(try dnsName("dns6"))
        case 421:
            let value = try takeLengthPrefixed("p2p")
            do {
                return .p2p(try PeerID(bytes: value))
            } catch let error as P2PCoreError {
                throw P2PCoreError(.invalidMultiaddr, "invalid /p2p/ value: \(error.message)", underlying: error)
            }
        default:
            throw P2PCoreError(
                .unknownMultiaddrProtocol,
                "multiaddr protocol code \(code) (0x\(String(code, radix: 16))) is not supported"
            )
        }
    }
}
