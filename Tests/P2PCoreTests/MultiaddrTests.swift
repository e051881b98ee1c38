import P2PCore
import Testing

@Suite("Multiaddr")
struct MultiaddrTests {
    // Vectors: multiformats/multiaddr README.md and test/multiaddr.feature (MIT), plus values computed per
    // its rules in /work/shared/docs/libp2p-wire-notes.md §1.6.
    static let roundTrips: [(String, String)] = [
        ("/ip4/192.0.2.42/tcp/443", "04c000022a 0601bb"),
        ("/ip4/127.0.0.1/udp/1234", "047f000001 910204d2"),
        ("/dns/example.com/tcp/443", "350b6578616d706c652e636f6d 0601bb"),
        ("/dns4/a.b/tcp/0", "3603612e62 060000"),
        ("/dns6/localhost/udp/65535", "37096c6f63616c686f7374 9102ffff"),
        ("/ip6/::1/tcp/4001", "2900000000000000000000000000000001 060fa1"),
        ("/ip6/2001:db8::1/udp/53", "2920010db8000000000000000000000001 91020035"),
        (
            "/ip4/127.0.0.1/tcp/4001/p2p/" + KeyVectors.ed25519PeerID,
            "047f000001 060fa1 a50326" + KeyVectors.ed25519Multihash
        ),
        ("/p2p/" + KeyVectors.ecdsaPeerID, "a50322" + KeyVectors.ecdsaMultihash),
    ]

    @Test("Converts text to bytes and back", arguments: MultiaddrTests.roundTrips)
    func roundTrip(text: String, bytes: String) throws {
        let fromText = try Multiaddr(parsing: text)
        #expect(fromText.bytes == hex(bytes))
        #expect(fromText.description == text)
        let fromBytes = try Multiaddr(bytes: hex(bytes))
        #expect(fromBytes == fromText)
        #expect(fromBytes.description == text)
    }

    @Test("Exposes components and the trailing peer ID")
    func components() throws {
        let address = try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001/p2p/" + KeyVectors.ed25519PeerID)
        #expect(address.components.count == 3)
        #expect(address.components[0] == .ip4(IPv4Address(127, 0, 0, 1)))
        #expect(address.components[1] == .tcp(4001))
        #expect(address.peerID == (try PeerID(parsing: KeyVectors.ed25519PeerID)))
        #expect(address.removingPeerID().description == "/ip4/127.0.0.1/tcp/4001")
        #expect(address.removingPeerID().peerID == nil)
        #expect(address.removingPeerID().appending(address.components[2]) == address)
        #expect(Multiaddr("/ip4/127.0.0.1/tcp/1") == Multiaddr([.ip4(IPv4Address(127, 0, 0, 1)), .tcp(1)]))
    }

    @Test("Accepts /ipfs/, a CID peer ID and a trailing slash, and prints the canonical form")
    func acceptsAliases() throws {
        let canonical = "/ip4/1.2.3.4/tcp/5/p2p/" + KeyVectors.ed25519PeerID
        #expect(try Multiaddr(parsing: "/ip4/1.2.3.4/tcp/5/ipfs/" + KeyVectors.ed25519PeerID).description == canonical)
        #expect(
            try Multiaddr(parsing: "/ip4/1.2.3.4/tcp/5/p2p/" + KeyVectors.ed25519PeerIDCID).description == canonical
        )
        #expect(try Multiaddr(parsing: "/ip4/1.2.3.4/tcp/5/").description == "/ip4/1.2.3.4/tcp/5")
    }

    @Test(
        "Formats IPv6 addresses per RFC 5952",
        arguments: [
            ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("1:0:0:0:0:0:0:0", "1::"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"),
            ("fe80::0001:2:3", "fe80::1:2:3"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ]
    )
    func ipv6Text(input: String, canonical: String) throws {
        let address = try IPv6Address(parsing: input)
        #expect(address.description == canonical)
        #expect(try IPv6Address(parsing: canonical) == address)
    }

    @Test(
        "Rejects invalid text with a clear error",
        arguments: [
            ("", P2PCoreError.Code.invalidMultiaddr),
            ("/", .invalidMultiaddr),
            ("ip4/1.2.3.4", .invalidMultiaddr),
            ("/ip4/256.0.0.1", .invalidMultiaddr),
            ("/ip4/1.2.3", .invalidMultiaddr),
            ("/ip4/01.2.3.4", .invalidMultiaddr),
            ("/ip4/1.2.3.4//tcp/1", .invalidMultiaddr),
            ("/tcp/65536", .invalidMultiaddr),
            ("/tcp/-1", .invalidMultiaddr),
            ("/tcp/+1", .invalidMultiaddr),
            ("/tcp/", .invalidMultiaddr),
            ("/tcp", .invalidMultiaddr),
            ("/ip6/1:2:3:4:5:6:7:8:9", .invalidMultiaddr),
            ("/ip6/1:2:3:4:5:6:7", .invalidMultiaddr),
            ("/ip6/::1::", .invalidMultiaddr),
            ("/ip6/12345::", .invalidMultiaddr),
            ("/ip6/+1::", .invalidMultiaddr),
            ("/ip6/fe80::1%eth0", .invalidMultiaddr),
            ("/ip6/1:2:3:4:5:6:7::8", .invalidMultiaddr),
            ("/p2p/notapeerid", .invalidMultiaddr),
            ("/quic-v1", .unknownMultiaddrProtocol),
            ("/ip4/1.2.3.4/udp/1/quic-v1", .unknownMultiaddrProtocol),
            ("/unix/tmp", .unknownMultiaddrProtocol),
        ]
    )
    func rejectsText(text: String, code: P2PCoreError.Code) {
        #expect(errorCode { try Multiaddr(parsing: text) } == code)
        #expect(Multiaddr(text) == nil)
    }

    @Test(
        "Rejects invalid bytes with a clear error",
        arguments: [
            ("", P2PCoreError.Code.invalidMultiaddr),
            ("04010203", .invalidMultiaddr),  // truncated ip4
            ("0601", .invalidMultiaddr),  // truncated tcp
            ("29" + String(repeating: "00", count: 15), .invalidMultiaddr),  // truncated ip6
            ("350561", .invalidMultiaddr),  // dns length past the end
            ("3500", .invalidMultiaddr),  // empty dns name
            ("35012f", .invalidMultiaddr),  // dns name with '/'
            ("3502c328", .invalidMultiaddr),  // dns name not UTF-8
            ("a5030400000000", .invalidMultiaddr),  // p2p value is not a peer ID
            ("a503", .invalidMultiaddr),  // p2p length missing
            ("a5", .invalidMultiaddr),  // code truncated
            ("cd03", .unknownMultiaddrProtocol),  // quic-v1
            ("a202", .unknownMultiaddrProtocol),  // p2p-circuit
            ("8400", .varintNotMinimal),  // ip4 code, non-minimal
        ]
    )
    func rejectsBytes(bytes: String, code: P2PCoreError.Code) {
        #expect(errorCode { try Multiaddr(bytes: hex(bytes)) } == code)
    }

    @Test("Enforces size limits on text and bytes")
    func sizeLimits() {
        let longName = String(repeating: "a", count: 256)
        #expect(errorCode { try Multiaddr(parsing: "/dns/" + longName) } == .invalidMultiaddr)
        let longText = String(repeating: "/tcp/1", count: 400)
        #expect(errorCode { try Multiaddr(parsing: longText) } == .tooLarge)
        let longBytes = [UInt8](repeating: 0x06, count: 1025)
        #expect(errorCode { try Multiaddr(bytes: longBytes) } == .tooLarge)
    }
}
