import Foundation
import NIOCore
import NIOPosix
import P2PCore
import P2PHost
import Testing

/// Every wait here ends on cancellation (the time limit cancels a stuck test, and the test then ends) and allows a
/// loaded machine: the hosts get generous dial, handshake and negotiation timeouts unless a test is about one of them,
/// and state without an event is polled with a deadline (``waitUntil(_:timeout:_:)``), never spun on.
@Suite("The host over real loopback sockets", .tags(.integration))
struct HostSocketTests {
    private func makeHost(listening: Bool = true) throws -> LibP2PHost {
        let host = try LibP2PHost(
            identity: PrivateKey(),
            configuration: loadTolerantConfiguration(listening: listening)
        )
        addEchoHandler(to: host)
        return host
    }

    /// Waits until the remote side closes `channel`; cancelling the wait closes it from here.
    private func closed(_ channel: any Channel) async throws {
        try await withTaskCancellationHandler {
            try await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        try Task.checkCancellation()
    }

    @Test("Two hosts connect, identify, ping and echo on 50 streams, then close cleanly", .timeLimit(.minutes(1)))
    func twoHosts() async throws {
        let listener = try self.makeHost()
        let dialer = try self.makeHost(listening: false)
        try await listener.start()
        try await dialer.start()
        let address = try #require(listener.listenAddresses.first)
        #expect(address.peerID == listener.peerID)
        #expect(address.tcpSocketAddress?.port != 0)

        var listenerEvents = listener.events.makeAsyncIterator()
        let dialerEvents = dialer.events.makeAsyncIterator()
        let peer = try await dialer.dial(address)
        #expect(peer == listener.peerID)

        for (side, other) in [(dialer, listener), (listener, dialer)] {
            var iterator = side === dialer ? dialerEvents : listenerEvents
            let identified = try await nextEvent(&iterator) {
                if case .identified = $0 { return true }
                return false
            }
            guard case .identified(let who, let agent, let protocols, _) = identified else { return }
            #expect(who == other.peerID)
            #expect(agent == "phantom-trail/0.1.0")
            #expect(protocols == other.protocols)
        }
        // Dialing a connected peer again reuses the connection.
        #expect(try await dialer.dial(address) == listener.peerID)
        #expect(dialer.connectedPeers == [listener.peerID])

        let rtts = try await dialer.ping(listener.peerID, count: 2)
        #expect(rtts.count == 2)
        #expect(try await runEchoStreams(host: dialer, peer: listener.peerID, count: 50, size: 64 * 1024) == 50)
        #expect(try await runEchoStreams(host: listener, peer: dialer.peerID, count: 5, size: 1024) == 5)

        await dialer.shutdown()
        let gone = try await nextEvent(&listenerEvents) {
            if case .peerDisconnected = $0 { return true }
            return false
        }
        #expect(gone == .peerDisconnected(peer: dialer.peerID))
        await listener.shutdown()
    }

    @Test("Garbage before the handshake closes that connection while the host keeps serving", .timeLimit(.minutes(1)))
    func garbageConnection() async throws {
        let listener = try self.makeHost()
        try await listener.start()
        try await withShutdown(of: listener) { () async throws in
            let address = try #require(listener.listenAddresses.first)
            let socketAddress = try #require(address.tcpSocketAddress)
            var events = listener.events.makeAsyncIterator()

            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: socketAddress).get()
            // An over-long varint where the first multistream-select length prefix belongs.
            try await raw.writeAndFlush(ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: 16)))
            try await self.closed(raw)  // the host hangs up

            let failure = try await nextEvent(&events) {
                if case .error = $0 { return true }
                return false
            }
            guard case .error(let message, _) = failure else { return }
            #expect(message.contains("inbound connection"))

            let dialer = try self.makeHost(listening: false)
            try await dialer.start()
            try await withShutdown(of: dialer) { () async throws in
                #expect(try await dialer.dial(address) == listener.peerID)
                #expect(try await dialer.ping(listener.peerID).count == 1)
            }
        }
    }

    @Test("Dialing with the wrong peer ID fails and leaves no connection", .timeLimit(.minutes(1)))
    func wrongPeerID() async throws {
        let listener = try self.makeHost()
        let dialer = try self.makeHost(listening: false)
        try await listener.start()
        try await dialer.start()
        try await withShutdown(of: listener) { () async throws in
            try await withShutdown(of: dialer) { () async throws in
                let address = try #require(listener.listenAddresses.first).removingPeerID()
                    .appending(.p2p(PeerID(publicKey: PrivateKey().publicKey)))
                await #expect(throws: P2PHostError(.upgradeFailed, "")) { try await dialer.dial(address) }
                #expect(dialer.connectedPeers.isEmpty)
            }
        }
    }

    @Test("A stream for a protocol the peer lacks fails with protocolNotSupported", .timeLimit(.minutes(1)))
    func unsupportedProtocol() async throws {
        let listener = try self.makeHost()
        let dialer = try self.makeHost(listening: false)
        try await listener.start()
        try await dialer.start()
        try await withShutdown(of: listener) { () async throws in
            try await withShutdown(of: dialer) { () async throws in
                let peer = try await dialer.dial(try #require(listener.listenAddresses.first))
                await #expect(throws: P2PHostError(.protocolNotSupported, "")) {
                    try await dialer.newStream(to: peer, protocols: ["/nope/1.0.0"])
                }
                // The connection survives a failed negotiation.
                #expect(try await dialer.ping(peer).count == 1)
            }
        }
    }

    @Test("Dialing a closed port fails with dialFailed", .timeLimit(.minutes(1)))
    func unreachable() async throws {
        let dialer = try self.makeHost(listening: false)
        try await dialer.start()
        try await withShutdown(of: dialer) { () async throws in
            // Bind and close a listener to find a port that nothing listens on.
            let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(probe.localAddress?.port)
            try await probe.close()
            await #expect(throws: P2PHostError(.dialFailed, "")) {
                try await dialer.dial(try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/\(port)"))
            }
        }
    }

    @Test("A full handshake budget refuses more connections until a handshake ends", .timeLimit(.minutes(1)))
    func handshakeCap() async throws {
        var configuration = try loadTolerantConfiguration()
        configuration.maxPendingHandshakes = 1
        // Longer than any test run: only closing the silent connection may free its slot. (With the default 10 s a
        // starved test could see the slot taken and freed again before it looked, and then wait for it forever.)
        configuration.handshakeTimeout = .minutes(10)
        let listener = try LibP2PHost(identity: PrivateKey(), configuration: configuration)
        let dialer = try self.makeHost(listening: false)
        try await listener.start()
        try await dialer.start()
        try await withShutdown(of: listener) { () async throws in
            try await withShutdown(of: dialer) { () async throws in
                let address = try #require(listener.listenAddresses.first)
                var events = listener.events.makeAsyncIterator()
                // A silent connection holds the only handshake slot. The host's shutdown does not close connections
                // still in their handshake, so the test closes it on every path.
                let silent = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(to: try #require(address.tcpSocketAddress)).get()
                defer { silent.close(promise: nil) }
                // The listener accepts on another event loop; wait until it counts the silent handshake.
                try await waitUntil("the listener to count the silent handshake") {
                    listener.pendingHandshakeCount == 1
                }
                await #expect(throws: P2PHostError(.upgradeFailed, "")) { try await dialer.dial(address) }
                try await silent.close()
                // Its failed upgrade frees the slot.
                _ = try await nextEvent(&events) {
                    if case .error = $0 { return true }
                    return false
                }
                #expect(try await dialer.dial(address) == listener.peerID)
            }
        }
    }

    @Test("run() serves until its task is cancelled, then closes every connection", .timeLimit(.minutes(1)))
    func runAsService() async throws {
        let host = try self.makeHost()
        let dialer = try self.makeHost(listening: false)
        try await dialer.start()
        try await withShutdown(of: dialer) { () async throws in
            var dialerEvents = dialer.events.makeAsyncIterator()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await host.run() }
                try await waitUntil("the host to listen") { !host.listenAddresses.isEmpty }
                let peer = try await dialer.dial(host.listenAddresses[0])
                #expect(try await dialer.ping(peer).count == 1)
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(host.connectedPeers.isEmpty)
            let gone = try await nextEvent(&dialerEvents) {
                if case .peerDisconnected = $0 { return true }
                return false
            }
            #expect(gone == .peerDisconnected(peer: host.peerID))
            await #expect(throws: P2PHostError(.notRunning, "")) { try await host.start() }
        }
    }

    @Test("When both sides dial at once, both keep the same single connection", .timeLimit(.minutes(1)))
    func simultaneousDial() async throws {
        let first = try self.makeHost()
        let second = try self.makeHost()
        try await first.start()
        try await second.start()
        try await withShutdown(of: first) { () async throws in
            try await withShutdown(of: second) { () async throws in
                let firstAddress = try #require(first.listenAddresses.first)
                let secondAddress = try #require(second.listenAddresses.first)
                async let dialedSecond = first.dial(secondAddress)
                async let dialedFirst = second.dial(firstAddress)
                #expect(try await dialedSecond == second.peerID)
                #expect(try await dialedFirst == first.peerID)
                // Each side settles on one connection once it has seen both upgrades (until then each may hold the
                // one it dialed, and the other side's ping could take the connection about to be closed).
                try await waitUntil("both upgrades on each side, one connection kept") {
                    let settled = first.pendingHandshakeCount == 0 && second.pendingHandshakeCount == 0
                    return settled && first.connectionCount(to: second.peerID) == 1
                        && second.connectionCount(to: first.peerID) == 1
                }
                #expect(try await first.ping(second.peerID).count == 1)
                #expect(try await second.ping(first.peerID).count == 1)
                #expect(try await runEchoStreams(host: first, peer: second.peerID, count: 5, size: 1024) == 5)
                #expect(first.connectionCount(to: second.peerID) == 1)
                #expect(second.connectionCount(to: first.peerID) == 1)
            }
        }
    }

    @Test("A connection without streams closes after the idle timeout", .timeLimit(.minutes(1)))
    func idleClose() async throws {
        var configuration = try loadTolerantConfiguration()
        configuration.idleTimeout = .seconds(2)
        let listener = try LibP2PHost(identity: PrivateKey(), configuration: configuration)
        addEchoHandler(to: listener)
        let dialer = try self.makeHost(listening: false)
        try await listener.start()
        try await dialer.start()
        try await withShutdown(of: listener) { () async throws in
            try await withShutdown(of: dialer) { () async throws in
                var events = listener.events.makeAsyncIterator()
                let address = try #require(listener.listenAddresses.first)
                var attempt = 1
                var dialStarted = ContinuousClock.now
                while true {
                    dialStarted = ContinuousClock.now
                    let peer = try await dialer.dial(address)
                    do {
                        let stream = try await dialer.newStream(to: peer, protocols: [echoProtocol])
                        try await stream.write(ByteBuffer(string: "last words"))
                        try await stream.closeWrite()
                        #expect(try await stream.readToEnd(maxBytes: 100) == ByteBuffer(string: "last words"))
                        await stream.close()
                        break
                    } catch  where attempt < 3 {
                        // A starved machine can take longer than the idle timeout between the listener's upgrade and
                        // our stream, and then the listener rightly closes the connection first: start over.
                        attempt += 1
                        _ = try await nextEvent(&events) {
                            if case .peerDisconnected = $0 { return true }
                            return false
                        }
                        try await waitUntil("the dialer to see the idle close") { dialer.connectedPeers.isEmpty }
                    }
                }
                let gone = try await nextEvent(&events) {
                    if case .peerDisconnected = $0 { return true }
                    return false
                }
                #expect(gone == .peerDisconnected(peer: dialer.peerID))
                // Never before a full idle period since the connection (and its last stream) began.
                #expect(ContinuousClock.now - dialStarted >= .seconds(2))
            }
        }
    }

    @Test("A host listens on IPv4 and IPv6 loopback at once and is reachable on both", .timeLimit(.minutes(1)))
    func dualStack() async throws {
        let listener = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(listenAddresses: [
                try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"), try Multiaddr(parsing: "/ip6/::1/tcp/0"),
            ])
        )
        try await listener.start()
        try await withShutdown(of: listener) { () async throws in
            let addresses = listener.listenAddresses
            #expect(addresses.count == 2)
            for address in addresses {
                #expect(address.peerID == listener.peerID)
                #expect(address.tcpSocketAddress?.port != 0)
                let dialer = try self.makeHost(listening: false)
                try await dialer.start()
                try await withShutdown(of: dialer) { () async throws in
                    #expect(try await dialer.dial(address) == listener.peerID)
                    #expect(try await dialer.ping(listener.peerID).count == 1)
                }
            }
            #expect(addresses.map(\.description).contains { $0.hasPrefix("/ip6/::1/tcp/") })
        }
    }

    @Test("Two hosts without listeners connect in process over a socket pair", .timeLimit(.minutes(1)))
    func inProcess() async throws {
        let first = try self.makeHost(listening: false)
        let second = try self.makeHost(listening: false)
        try await first.start()
        try await second.start()
        try await withShutdown(of: second) { () async throws in
            var secondEvents = second.events.makeAsyncIterator()
            #expect(try await first.connect(inProcessTo: second) == second.peerID)
            let connected = try await nextEvent(&secondEvents) {
                if case .peerConnected = $0 { return true }
                return false
            }
            #expect(connected == .peerConnected(peer: first.peerID, direction: .inbound, address: nil))
            let identified = try await nextEvent(&secondEvents) {
                if case .identified = $0 { return true }
                return false
            }
            guard case .identified(let who, let agent, _, _) = identified else { return }
            #expect(who == first.peerID)
            #expect(agent == "phantom-trail/0.1.0")
            #expect(try await first.ping(second.peerID).count == 1)
            #expect(try await runEchoStreams(host: second, peer: first.peerID, count: 10, size: 4096) == 10)
            await first.shutdown()
            let gone = try await nextEvent(&secondEvents) {
                if case .peerDisconnected = $0 { return true }
                return false
            }
            #expect(gone == .peerDisconnected(peer: first.peerID))
        }
    }

    @Test("Past the connection limit new peers are refused, and the limit also guards dialing", .timeLimit(.minutes(1)))
    func connectionLimit() async throws {
        let listener = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(
                listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")],
                maxConnections: 1
            )
        )
        let first = try self.makeHost(listening: false)
        let second = try self.makeHost(listening: false)
        try await listener.start()
        try await first.start()
        try await second.start()
        try await withShutdown(of: listener) { () async throws in
            try await withShutdown(of: second) { () async throws in
                let address = try #require(listener.listenAddresses.first)
                var events = listener.events.makeAsyncIterator()
                #expect(try await first.dial(address) == listener.peerID)
                await #expect(throws: P2PHostError(.upgradeFailed, "")) { try await second.dial(address) }
                // The listener itself may not dial out past its limit either.
                let otherListener = try self.makeHost()
                try await otherListener.start()
                try await withShutdown(of: otherListener) { () async throws in
                    await #expect(throws: P2PHostError(.tooManyConnections, "")) {
                        try await listener.dial(try #require(otherListener.listenAddresses.first))
                    }
                }
                await first.shutdown()
                _ = try await nextEvent(&events) {
                    if case .peerDisconnected = $0 { return true }
                    return false
                }
                #expect(try await second.dial(address) == listener.peerID)
            }
        }
    }
}
