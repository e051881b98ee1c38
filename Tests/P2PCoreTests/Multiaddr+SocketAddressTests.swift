import NIOCore
import P2PCore
import Testing

@Suite("Multiaddr and socket addresses")
struct MultiaddrSocketAddressTests {
    @Test(
        "Converts TCP multiaddrs to socket addresses and back",
        arguments: ["/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/80"]
    )
    func roundTrip(text: String) throws {
        let address = try Multiaddr(parsing: text)
        let socketAddress = try #require(address.tcpSocketAddress)
        #expect(Multiaddr(tcp: socketAddress) == address)
        let withPeer = address.appending(.p2p(try PeerID(parsing: KeyVectors.ed25519PeerID)))
        #expect(withPeer.tcpSocketAddress == socketAddress)
    }

    @Test("Matches NIO's own parsing of the address")
    func matchesNIO() throws {
        let fromNIO = try SocketAddress(ipAddress: "192.0.2.42", port: 443)
        #expect(try Multiaddr(parsing: "/ip4/192.0.2.42/tcp/443").tcpSocketAddress == fromNIO)
        #expect(Multiaddr(tcp: fromNIO)?.description == "/ip4/192.0.2.42/tcp/443")
        let v6 = try SocketAddress(ipAddress: "2001:db8:85a3::8a2e:370:7334", port: 65_000)
        #expect(Multiaddr(tcp: v6) == (try Multiaddr(parsing: "/ip6/2001:db8:85a3::8a2e:370:7334/tcp/65000")))
    }

    @Test(
        "Has no socket address for DNS, UDP or longer shapes",
        arguments: [
            "/dns/example.com/tcp/443", "/ip4/127.0.0.1/udp/1", "/ip4/127.0.0.1", "/ip4/127.0.0.1/tcp/1/tcp/2",
        ]
    )
    func noSocketAddress(text: String) throws {
        #expect(try Multiaddr(parsing: text).tcpSocketAddress == nil)
    }
}
