import Foundation
import NIOCore
import NIOPosix
import P2PCore
import P2PHost
import Testing

/// A UDP port that was free a moment ago (bound to 127.0.0.1:0 and closed), so a test's mDNS group is its own.
func freeUDPPort() async throws -> Int {
    let probe = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = try #require(probe.localAddress?.port)
    try await probe.close()
    return port
}

/// Loopback-only settings: multicast on 127.0.0.1 and advertise loopback addresses.
func loopbackMDNS(port: Int) -> MDNSConfiguration {
    MDNSConfiguration(port: port, interfaceAddress: "127.0.0.1", advertiseLoopback: true)
}

/// The first discovered peer that is `peer`; ends with an error if discovery ends first (or the task is cancelled:
/// the `AsyncStream` then ends the iteration).
func firstDiscovery(of peer: PeerID, on discovery: MDNSDiscovery) async throws -> DiscoveredPeer {
    for await found in discovery.discovered where found.peerID == peer {
        return found
    }
    try Task.checkCancellation()
    throw IntegrationFailure(description: "mDNS discovery ended before it found \(peer)")
}

/// Runs `body`, then stops `discoveries`, also when `body` throws.
@discardableResult
func withStopping<T>(_ discoveries: [MDNSDiscovery], _ body: () async throws -> T) async throws -> T {
    try await withStopping(discoveries, stop: { await $0.stop() }, body)
}

@Suite("mDNS discovery on loopback multicast", .tags(.integration), .serialized)
struct MDNSDiscoveryTests {
    private func makeHost() throws -> LibP2PHost {
        try LibP2PHost(identity: PrivateKey(), configuration: loadTolerantConfiguration())
    }

    @Test(
        "Two of our nodes find each other over 224.0.0.251 on lo and connect at the advertised address",
        .timeLimit(.minutes(2))
    )
    func twoNodesFindEachOther() async throws {
        let port = try await freeUDPPort()
        let first = try self.makeHost()
        let second = try self.makeHost()
        try await first.start()
        try await second.start()
        try await withShutdown(of: first) { () async throws in
            try await withShutdown(of: second) { () async throws in
                let discoveryA = try MDNSDiscovery(host: first, configuration: loopbackMDNS(port: port))
                let discoveryB = try MDNSDiscovery(host: second, configuration: loopbackMDNS(port: port))
                try await withStopping([discoveryA, discoveryB]) { () async throws in
                    try await discoveryA.start()
                    try await discoveryB.start()
                    async let foundBySecond = firstDiscovery(of: first.peerID, on: discoveryB)
                    let foundByFirst = try await firstDiscovery(of: second.peerID, on: discoveryA)
                    let bySecond = try await foundBySecond
                    #expect(foundByFirst.addresses == second.listenAddresses)
                    #expect(bySecond.addresses == first.listenAddresses)
                    #expect(discoveryA.knownPeers.map(\.peerID).contains(second.peerID))

                    let dialed = try await first.dial(try #require(foundByFirst.addresses.first))
                    #expect(dialed == second.peerID)
                    #expect(try await first.ping(dialed).count == 1)
                }
            }
        }
    }

    @Test(
        "No socket exists before start; after start the mDNS port is taken (shared only with SO_REUSEPORT)",
        .timeLimit(.minutes(2))
    )
    func noSocketBeforeStart() async throws {
        let port = try await freeUDPPort()
        let host = try self.makeHost()
        let discovery = try MDNSDiscovery(host: host, configuration: loopbackMDNS(port: port))
        // An exclusive bind (no SO_REUSEADDR/SO_REUSEPORT) succeeds only while nobody else holds the port.
        let exclusive = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "0.0.0.0", port: port).get()
        try await exclusive.close()
        try await withStopping([discovery]) { () async throws in
            try await discovery.start()
            await #expect(throws: (any Error).self) {
                let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "0.0.0.0", port: port).get()
                try await channel.close()
            }
        }
        // Closed again after stop.
        let again = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "0.0.0.0", port: port).get()
        try await again.close()
    }

    @Test("Starting on an interface address the machine does not have fails with listenFailed")
    func unknownInterface() async throws {
        let host = try self.makeHost()
        let discovery = try MDNSDiscovery(
            host: host,
            configuration: MDNSConfiguration(port: try await freeUDPPort(), interfaceAddress: "203.0.113.77")
        )
        await #expect(throws: P2PHostError(.listenFailed, "")) { try await discovery.start() }
    }
}

@Suite("mDNS interop with py-libp2p 0.8.1 (zeroconf, limited to 127.0.0.1)", .tags(.integration), .serialized)
struct MDNSInteropTests {
    @Test(
        "py-libp2p discovers and dials us, and we discover and dial py-libp2p, on 224.0.0.251:5353 over lo",
        .timeLimit(.minutes(2))
    )
    func discoveryBothWays() async throws {
        let host = try LibP2PHost(identity: PrivateKey(), configuration: loadTolerantConfiguration())
        try await host.start()
        try await withShutdown(of: host) { () async throws in
            let discovery = try MDNSDiscovery(host: host, configuration: loopbackMDNS(port: 5353))
            try await withStopping([discovery]) { () async throws in
                try await self.discoveryBothWays(host: host, discovery: discovery)
            }
        }
    }

    private func discoveryBothWays(host: LibP2PHost, discovery: MDNSDiscovery) async throws {
        try await discovery.start()
        let script = try #require(
            Bundle.module.url(forResource: "interop_mdns", withExtension: "py", subdirectory: "Interop")
        )
        let python = try Subprocess(
            executable: try IntegrationPaths.interopPython(),
            arguments: [script.path, "--dial", "\(host.peerID)", "--duration", "90"]
        )
        defer { python.stop() }
        let listening = try await python.next("listening")
        let pythonPeer = try PeerID(parsing: try #require(listening["peer_id"] as? String))
        let pythonAddresses = try #require(listening["addrs"] as? [any Sendable]).compactMap { $0 as? String }

        let found = try await firstDiscovery(of: pythonPeer, on: discovery)
        #expect(found.addresses.map(\.description).contains { pythonAddresses.contains($0) })
        // The advertised address works: the upgrade authenticates the discovered peer ID. (py-libp2p dials us
        // at the same time and may close one of the two connections, so nothing more is run on this one.)
        let dialed = try await host.dial(try #require(found.addresses.first))
        #expect(dialed == pythonPeer)

        let theirs = try await python.next("mdns_discovered") { $0["peer_id"] as? String == "\(host.peerID)" }
        let theirAddresses = try #require(theirs["addrs"] as? [any Sendable]).compactMap { $0 as? String }
        let ours = host.listenAddresses.map { $0.removingPeerID().description }
        #expect(theirAddresses.contains { ours.contains($0) })
        _ = try await python.next("connected") { $0["peer_id"] as? String == "\(host.peerID)" }
    }
}
