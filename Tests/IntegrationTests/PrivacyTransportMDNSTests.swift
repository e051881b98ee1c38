import Logging
import P2PCore
import PrivacyCore
import PrivacyNetwork
import Testing

@Suite("Privacy transport mDNS on loopback multicast", .tags(.integration), .serialized)
struct PrivacyTransportMDNSTests {
    private static func transport(mdns: Bool, port: Int) throws -> LibP2PPrivacyTransport {
        try LibP2PPrivacyTransport(
            identity: PrivateKey(),
            options: LibP2PPrivacyTransport.Options(
                listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")],
                maxConnections: 5,
                mdns: mdns,
                parameters: .demo,
                mdnsPort: port
            ),
            logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    private static let callbacks = PrivacyTransportCallbacks(admit: { _, _ in .ignore }, syncResponse: { _, _ in [] })

    /// Waits for the first addresses learned from mDNS (no `from` peer) naming `peer`.
    private static func firstMDNSAddresses(
        of peer: PeerID,
        in events: AsyncStream<PrivacyTransportEvent>
    ) async -> [Multiaddr]? {
        for await event in events {
            if case .addressesLearned(let addresses, nil) = event, addresses.contains(where: { $0.peerID == peer }) {
                return addresses
            }
        }
        return nil
    }

    @Test(
        "Two transports with mDNS on loopback learn each other's dialable addresses through the discovery seam",
        .timeLimit(.minutes(1))
    )
    func twoTransportsFindEachOther() async throws {
        let port = try await freeUDPPort()
        let first = try Self.transport(mdns: true, port: port)
        let second = try Self.transport(mdns: true, port: port)
        let firstEvents = try await first.start(Self.callbacks)
        let secondEvents = try await second.start(Self.callbacks)
        async let learnedBySecond = Self.firstMDNSAddresses(of: first.localPeerID, in: secondEvents)
        let learnedByFirst = try #require(await Self.firstMDNSAddresses(of: second.localPeerID, in: firstEvents))
        let bySecond = try #require(await learnedBySecond)
        let secondListens = await second.listenAddresses().map {
            $0.removingPeerID().appending(.p2p(second.localPeerID))
        }
        let firstListens = await first.listenAddresses().map { $0.removingPeerID().appending(.p2p(first.localPeerID)) }
        #expect(learnedByFirst == secondListens)
        #expect(bySecond == firstListens)
        // Dialling the learned address reaches the advertised peer.
        #expect(try await first.dial(try #require(learnedByFirst.first)) == second.localPeerID)
        await first.shutdown()
        await second.shutdown()
    }
}
