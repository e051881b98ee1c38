import NIOCore
import P2PCore
import Testing

@testable import P2PHost

/// An echo protocol for the tests: the responder sends back everything it reads, then closes.
private let echoProtocol = "/test/echo/1.0.0"

private func registerEcho(on host: LibP2PHost) {
    host.setHandler(protocol: echoProtocol) { stream in
        let received = try await stream.readToEnd(maxBytes: 1 << 20)
        try await stream.write(received)
        try await stream.closeWrite()
        await stream.close()
    }
}

/// Sends `text` on a new echo stream to `peer` and returns the echo.
private func echo(_ text: String, from host: LibP2PHost, to peer: PeerID) async throws -> String {
    let stream = try await host.newStream(to: peer, protocols: [echoProtocol])
    try await stream.write(ByteBuffer(string: text))
    try await stream.closeWrite()
    let reply = try await stream.readToEnd(maxBytes: 1 << 20)
    await stream.close()
    return String(buffer: reply)
}

@Suite("Hosts on the in-memory network with virtual time", .timeLimit(.minutes(3)))
struct InMemoryHostTests {
    @Test("Two hosts connect through the full upgrade, identify each other, ping and echo on a stream")
    func twoHosts() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost()
        let b = try await net.makeHost()
        registerEcho(on: b.host)

        let bAddress = try b.address
        #expect(bAddress.description.hasPrefix("/ip4/\(b.transport.hostAddress)/tcp/10000/p2p/"))
        #expect(try await a.host.dial(bAddress) == b.peerID)
        let connected = try await b.next {
            if case .peerConnected = $0 { return true } else { return false }
        }
        guard case .peerConnected(a.peerID, .inbound, let observed?) = connected else {
            Issue.record("unexpected event \(connected)")
            return
        }
        // The dialer's virtual host address and source port, as a socket's peer address would be.
        #expect(observed.description.hasPrefix("/ip4/\(a.transport.hostAddress)/tcp/"))

        let seenByA = try await a.identified(b.peerID)
        #expect(
            seenByA
                == .identified(
                    peer: b.peerID,
                    agentVersion: HostConfiguration().agentVersion,
                    protocols: b.host.protocols,
                    listenAddresses: [bAddress.removingPeerID()]
                )
        )
        try await b.identified(a.peerID)
        #expect(b.host.identifyResult(of: a.peerID)?.protocols.contains(Identify.protocolID) == true)

        // Virtual time stands still while the ping runs, so the round trip takes no time at all.
        #expect(try await a.host.ping(b.peerID, count: 3) == [.zero, .zero, .zero])
        #expect(try await echo("over the in-memory pipe", from: a.host, to: b.peerID) == "over the in-memory pipe")
        await #expect(throws: P2PHostError.self) {
            _ = try await a.host.newStream(to: b.peerID, protocols: ["/not/offered/1.0.0"])
        }

        await a.host.shutdown()
        try await b.disconnected(from: a.peerID)
        await b.host.shutdown()
    }

    @Test(
        "Hosts with and without inlined muxer negotiation connect, identify and carry streams in every pairing",
        arguments: [(true, true), (true, false), (false, true), (false, false)]
    )
    func inlinedMuxerNegotiation(dialerInlines: Bool, listenerInlines: Bool) async throws {
        let net = VirtualNetwork()
        var dialerConfiguration = HostConfiguration()
        dialerConfiguration.inlinedMuxerNegotiation = dialerInlines
        var listenerConfiguration = HostConfiguration()
        listenerConfiguration.inlinedMuxerNegotiation = listenerInlines
        let a = try await net.makeHost(configuration: dialerConfiguration)
        let b = try await net.makeHost(configuration: listenerConfiguration)
        registerEcho(on: b.host)
        #expect(try await a.host.dial(try b.address) == b.peerID)
        try await a.identified(b.peerID)
        try await b.identified(a.peerID)
        #expect(try await echo("muxer chosen", from: a.host, to: b.peerID) == "muxer chosen")
        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A host with identifyOnConnect off does not ask its peers, but still answers their identify")
    func identifyOnConnectOff() async throws {
        let net = VirtualNetwork()
        var quiet = HostConfiguration()
        quiet.identifyOnConnect = false
        let a = try await net.makeHost(configuration: quiet)
        let b = try await net.makeHost()
        registerEcho(on: b.host)
        #expect(try await a.host.dial(try b.address) == b.peerID)
        // b asks as usual and a answers.
        try await b.identified(a.peerID)
        #expect(b.host.identifyResult(of: a.peerID)?.protocols.contains(Identify.protocolID) == true)
        // A stream a opens afterwards is served; a itself never asked b.
        #expect(try await echo("after identify", from: a.host, to: b.peerID) == "after identify")
        // Once no stream is open, an identify a had started at connection time would have finished.
        await a.settled(with: b.peerID)
        #expect(a.host.identifyResult(of: b.peerID) == nil)
        // Asking explicitly still works.
        _ = try await a.host.identify(b.peerID)
        #expect(a.host.identifyResult(of: b.peerID)?.agentVersion == HostConfiguration().agentVersion)
        await a.host.shutdown()
        try await b.disconnected(from: a.peerID)
        await b.host.shutdown()
    }

    @Test("Ten hosts dial each other into a full mesh; each identifies, pings and opens a stream to all nine others")
    func tenHosts() async throws {
        let net = VirtualNetwork()
        var hosts: [VirtualHost] = []
        for _ in 0..<10 {
            let host = try await net.makeHost()
            registerEcho(on: host.host)
            hosts.append(host)
        }
        for (index, dialer) in hosts.enumerated() {
            for listener in hosts[(index + 1)...] {
                #expect(try await dialer.host.dial(try listener.address) == listener.peerID)
            }
        }
        for host in hosts {
            var waiting = Set(hosts.filter { $0 !== host }.map(\.peerID))
            while !waiting.isEmpty {
                let event = try await host.next {
                    if case .identified = $0 { return true } else { return false }
                }
                if case .identified(let peer, _, _, _) = event {
                    waiting.remove(peer)
                }
            }
        }
        for host in hosts {
            let others = hosts.filter { $0 !== host }
            #expect(host.host.connectedPeers == others.map(\.peerID).sorted())
            for other in others {
                #expect(host.host.connectionCount(to: other.peerID) == 1)
                #expect(
                    host.host.identifyResult(of: other.peerID)?.listenAddresses == [try other.address.removingPeerID()]
                )
                #expect(try await host.host.ping(other.peerID) == [.zero])
                let text = "\(host.peerID) to \(other.peerID)"
                #expect(try await echo(text, from: host.host, to: other.peerID) == text)
            }
        }
        for host in hosts {
            await host.host.shutdown()
        }
    }

    @Test("Dialing a virtual port where nothing listens fails at once with dialFailed")
    func refused() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost(listen: false)
        let error = await #expect(throws: P2PHostError.self) {
            _ = try await a.host.dial(try Multiaddr(parsing: "/ip4/127.0.1.9/tcp/10000"))
        }
        #expect(error?.code == .dialFailed)
        #expect(a.host.connectedPeers.isEmpty)
        await a.host.shutdown()
    }

    @Test("An idle connection closes exactly when the idle timeout has passed on the virtual clock")
    func idleTimeout() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost(configuration: HostConfiguration(idleTimeout: .seconds(60)))
        let b = try await net.makeHost(configuration: HostConfiguration(idleTimeout: nil))
        _ = try await a.host.dial(try b.address)
        try await a.identified(b.peerID)
        try await b.identified(a.peerID)
        await a.settled(with: b.peerID)

        // The identify streams closed at virtual time zero: the idle close is due 60 s later.
        #expect(a.host.timeUntilConnectionManagerDeadline == .seconds(60))
        await net.advance(by: .seconds(59))
        #expect(a.host.connectedPeers == [b.peerID])
        #expect(a.host.timeUntilConnectionManagerDeadline == .seconds(1))

        await net.advance(by: .seconds(1))
        try await a.disconnected(from: b.peerID)
        try await b.disconnected(from: a.peerID)
        #expect(a.host.connectedPeers.isEmpty)
        #expect(a.host.timeUntilConnectionManagerDeadline == nil)

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A kept peer is redialed when its backoff has passed on the virtual clock")
    func redial() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost(listen: false)
        let b = try await net.makeHost()
        #expect(try a.host.keepConnected(to: try b.address) == b.peerID)
        // The first dial is due at once.
        await net.advance(by: .zero)
        try await a.identified(b.peerID)

        a.host.disconnect(from: b.peerID)
        try await a.disconnected(from: b.peerID)
        try await b.disconnected(from: a.peerID)
        // The first redial waits a jittered delay of at most the 1 s base backoff.
        let delay = try #require(a.host.timeUntilConnectionManagerDeadline)
        #expect(delay >= .zero && delay <= .seconds(1))
        #expect(a.host.connectedPeers.isEmpty)

        await net.advance(by: EventLoopClock.timeAmount(delay))
        let reconnected = try await a.next {
            if case .peerConnected = $0 { return true } else { return false }
        }
        #expect(
            reconnected == .peerConnected(peer: b.peerID, direction: .outbound, address: try b.address.removingPeerID())
        )
        #expect(a.host.timeUntilConnectionManagerDeadline == nil)

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("Yamux keepalive closes the connection to an isolated host after interval plus timeout of virtual time")
    func keepaliveOnIsolation() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost(configuration: HostConfiguration(idleTimeout: nil))
        let b = try await net.makeHost(configuration: HostConfiguration(idleTimeout: nil))
        _ = try await a.host.dial(try b.address)
        try await a.identified(b.peerID)
        try await b.identified(a.peerID)
        await a.settled(with: b.peerID)
        await b.settled(with: a.peerID)

        b.transport.setIsolated(true)
        // Keepalive pings after 30 s without traffic and gives up 10 s after an unanswered ping.
        await net.advance(by: .seconds(39))
        #expect(a.host.connectedPeers == [b.peerID])
        await net.advance(by: .seconds(1))
        try await a.disconnected(from: b.peerID)
        try await b.disconnected(from: a.peerID)

        // Back on the network, the hosts connect again.
        b.transport.setIsolated(false)
        _ = try await a.host.dial(try b.address)
        try await a.identified(b.peerID)

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("An inbound connection that never speaks is closed when the handshake timeout passes on the virtual clock")
    func handshakeTimeout() async throws {
        let net = VirtualNetwork()
        let host = try await net.makeHost(configuration: HostConfiguration(handshakeTimeout: .seconds(10)))
        let silent = net.network.makeTransport()
        // A raw connection: the dialer adds no handlers, so it never sends a byte.
        let channel = try await silent.dial(try host.address.removingPeerID(), on: net.loop, timeout: .seconds(1)) {
            $0.eventLoop.makeSucceededFuture($0)
        }.get()
        #expect(host.host.pendingHandshakeCount == 1)

        await net.advance(by: .seconds(9))
        #expect(host.host.pendingHandshakeCount == 1)
        #expect(channel.isActive)

        await net.advance(by: .seconds(1))
        let failed = try await host.next {
            if case .error = $0 { return true } else { return false }
        }
        guard case .error(let message, nil) = failed else {
            Issue.record("unexpected event \(failed)")
            return
        }
        #expect(message.contains("did not finish within"))
        try await channel.closeFuture.get()
        #expect(host.host.pendingHandshakeCount == 0)

        await host.host.shutdown()
    }

    @Test("shutdown() reports every peer's disconnection before the event stream ends")
    func shutdownReportsDisconnections() async throws {
        let net = VirtualNetwork()
        let hub = try await net.makeHost()
        var spokes: [VirtualHost] = []
        for _ in 0..<3 {
            let spoke = try await net.makeHost()
            #expect(try await spoke.host.dial(try hub.address) == hub.peerID)
            spokes.append(spoke)
        }
        for spoke in spokes {
            try await hub.identified(spoke.peerID)
        }
        await hub.host.shutdown()
        let disconnected = await hub.remainingEvents().compactMap { event -> PeerID? in
            if case .peerDisconnected(let peer) = event { return peer } else { return nil }
        }
        #expect(
            disconnected.sorted { $0.description < $1.description }
                == spokes.map(\.peerID).sorted { $0.description < $1.description }
        )
        for spoke in spokes {
            try await spoke.disconnected(from: hub.peerID)
            await spoke.host.shutdown()
        }
    }

    @Test(
        "The dialer knows the connection before the listener's first stream: its identify answer names the dialed address"
    )
    func dialerRegistersBeforeInboundStreams() async throws {
        let net = VirtualNetwork()
        var quiet = HostConfiguration()
        quiet.identifyOnConnect = false
        let dialer = try await net.makeHost(configuration: quiet, listen: false)
        let listener = try await net.makeHost()
        let address = try listener.address
        #expect(try await dialer.host.dial(address) == listener.peerID)
        // The listener asks at once; the dialer answers from its record of the connection.
        try await listener.identified(dialer.peerID)
        #expect(listener.host.identifyResult(of: dialer.peerID)?.observedAddress == address.removingPeerID())
        await dialer.host.shutdown()
        try await listener.disconnected(from: dialer.peerID)
        await listener.host.shutdown()
    }

    @Test("shutdown() closes connections still in their upgrade, inbound and outbound, without waiting for the timeout")
    func shutdownClosesUpgradingConnections() async throws {
        let net = VirtualNetwork()
        let host = try await net.makeHost(configuration: HostConfiguration(handshakeTimeout: .seconds(10)))
        // Inbound: a raw connection that never speaks.
        let silentDialer = net.network.makeTransport()
        let inbound = try await silentDialer.dial(
            try host.address.removingPeerID(),
            on: net.loop,
            timeout: .seconds(1)
        ) { $0.eventLoop.makeSucceededFuture($0) }.get()
        // Outbound: a listener that accepts and never answers.
        let silentListener = net.network.makeTransport()
        let listener = try await silentListener.listen(
            on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"),
            group: net.loop
        ) { $0.eventLoop.makeSucceededVoidFuture() }
        let dial = Task { try await host.host.dial(listener.address) }
        while host.host.pendingHandshakeCount < 2 {
            await Task.yield()
        }

        // No virtual time passes: only the shutdown can close them.
        await host.host.shutdown()
        try await inbound.closeFuture.get()
        await #expect(throws: P2PHostError.self) { _ = try await dial.value }
        #expect(host.host.pendingHandshakeCount == 0)
        listener.close()
    }

    @Test("Cancelling a dial whose upgrade hangs closes its connection at once and frees the handshake slot")
    func cancelledDialClosesItsConnection() async throws {
        let net = VirtualNetwork()
        let host = try await net.makeHost(configuration: HostConfiguration(handshakeTimeout: .seconds(10)))
        // A listener that accepts and never answers; it keeps the accepted channel to watch it close.
        let silentListener = net.network.makeTransport()
        let accepted = AsyncStream.makeStream(of: (any Channel).self)
        let listener = try await silentListener.listen(
            on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"),
            group: net.loop
        ) { channel in
            accepted.continuation.yield(channel)
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        let dial = Task { try await host.host.dial(listener.address) }
        var acceptedChannels = accepted.stream.makeAsyncIterator()
        let theirs = try #require(await acceptedChannels.next())
        while host.host.pendingHandshakeCount < 1 {
            await Task.yield()
        }

        // No virtual time passes: only the cancellation can end the dial.
        dial.cancel()
        await #expect(throws: (any Error).self) { _ = try await dial.value }
        try await theirs.closeFuture.get()
        #expect(host.host.pendingHandshakeCount == 0)
        #expect(host.host.connectedPeers.isEmpty)
        listener.close()
        await host.host.shutdown()
    }

    @Test("An in-memory dial fails when either end's set-up fails: dialFailed for the listener's, and both ends close")
    func failingSetUpFailsTheDial() async throws {
        struct SetupFailed: Error {}
        let net = VirtualNetwork()
        let refusing = try await net.network.makeTransport().listen(
            on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"),
            group: net.loop
        ) { $0.eventLoop.makeFailedFuture(SetupFailed()) }
        let dialer = net.network.makeTransport()
        let initializerRan = LockedState(false)
        let error = await #expect(throws: P2PHostError.self) {
            _ = try await dialer.dial(refusing.address, on: net.loop, timeout: .seconds(1)) { channel in
                initializerRan.withLock { $0 = true }
                return channel.eventLoop.makeSucceededVoidFuture()
            }.get()
        }
        #expect(error?.code == .dialFailed)
        #expect(!initializerRan.withLock { $0 })

        // The dialer's own set-up fails: its error comes back as it is, and the accepted end closes too.
        let accepted = AsyncStream.makeStream(of: (any Channel).self)
        let accepting = try await net.network.makeTransport().listen(
            on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"),
            group: net.loop
        ) { channel in
            accepted.continuation.yield(channel)
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        await #expect(throws: SetupFailed.self) {
            _ = try await dialer.dial(accepting.address, on: net.loop, timeout: .seconds(1)) { channel in
                channel.eventLoop.makeFailedFuture(SetupFailed()) as EventLoopFuture<Void>
            }.get()
        }
        var acceptedChannels = accepted.stream.makeAsyncIterator()
        let theirs = try #require(await acceptedChannels.next())
        try await theirs.closeFuture.get()
        refusing.close()
        accepting.close()
    }

    @Test("Two listeners cannot share a virtual port, and a closed listener frees it")
    func portInUse() async throws {
        let net = VirtualNetwork()
        let transport = net.network.makeTransport()
        let address = try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001")
        let listener = try await transport.listen(on: address, group: net.loop) {
            $0.eventLoop.makeSucceededVoidFuture()
        }
        #expect(listener.address == Multiaddr([.ip4(transport.hostAddress), .tcp(4001)]))
        let error = await #expect(throws: P2PHostError.self) {
            _ = try await transport.listen(on: address, group: net.loop) { $0.eventLoop.makeSucceededVoidFuture() }
        }
        #expect(error?.code == .listenFailed)
        listener.close()
        let again = try await transport.listen(on: address, group: net.loop) { $0.eventLoop.makeSucceededVoidFuture() }
        #expect(net.network.listenAddresses == [again.address])
        again.close()
        #expect(net.network.listenAddresses.isEmpty)
    }
}
