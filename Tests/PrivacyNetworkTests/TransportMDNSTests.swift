import P2PCore
import P2PHost
import Testing

@testable import PrivacyNetwork

@Suite("LibP2PPrivacyTransport mDNS wiring")
struct TransportMDNSTests {
    private static func address(_ text: String) throws -> Multiaddr {
        try Multiaddr(parsing: text)
    }

    @Test("Only loopback listen addresses: mDNS joins the group on 127.0.0.1 and advertises loopback")
    func loopbackOnly() throws {
        let configuration = LibP2PPrivacyTransport.mdnsConfiguration(
            listenAddresses: [try Self.address("/ip4/127.0.0.1/tcp/0"), try Self.address("/ip4/127.0.0.2/tcp/4001")],
            port: 15353
        )
        #expect(configuration.interfaceAddress == "127.0.0.1")
        #expect(configuration.advertiseLoopback)
        #expect(configuration.port == 15353)
        #expect(configuration.serviceName == "_p2p._udp.local")
    }

    @Test("Any LAN or wildcard listen address: the spec's defaults (system interface, no loopback addresses)")
    func lanAddresses() throws {
        for listen in [
            [try Self.address("/ip4/0.0.0.0/tcp/0")],
            [try Self.address("/ip4/127.0.0.1/tcp/0"), try Self.address("/ip4/192.168.1.10/tcp/0")],
            [try Self.address("/ip6/::1/tcp/0")],
            [],
        ] {
            let configuration = LibP2PPrivacyTransport.mdnsConfiguration(listenAddresses: listen, port: 5353)
            #expect(configuration == MDNSConfiguration(port: 5353), "listen \(listen)")
        }
    }

    @Test("A discovered peer's addresses reach discovery ending in /p2p/<its id>; another peer's are dropped")
    func dialableAddresses() throws {
        let peer = PeerID(publicKey: PrivateKey().publicKey)
        let other = PeerID(publicKey: PrivateKey().publicKey)
        let found = DiscoveredPeer(
            peerID: peer,
            addresses: [
                try Self.address("/ip4/192.168.1.10/tcp/4001"),
                try Self.address("/ip4/192.168.1.10/tcp/4002/p2p/\(peer)"),
                try Self.address("/ip4/192.168.1.11/tcp/4001/p2p/\(other)"),
            ]
        )
        #expect(
            LibP2PPrivacyTransport.dialableAddresses(of: found) == [
                try Self.address("/ip4/192.168.1.10/tcp/4001/p2p/\(peer)"),
                try Self.address("/ip4/192.168.1.10/tcp/4002/p2p/\(peer)"),
            ]
        )
    }
}
