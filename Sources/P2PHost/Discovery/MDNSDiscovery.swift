public import Logging
public import NIOCore
import NIOPosix
public import P2PCore
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// libp2p mDNS discovery (https://github.com/libp2p/specs/blob/master/discovery/mdns.md): finds peers on the local
/// network and advertises a host's listen addresses to them.
///
/// Nothing opens a socket before ``start()``. Then a UDP socket joins the mDNS group (SO_REUSEADDR and
/// SO_REUSEPORT, so other mDNS responders on the machine keep working), queries `_p2p._udp.local`, answers queries
/// with our peer name and `dnsaddr=` TXT records, and reports every peer it learns of on ``discovered``: once when
/// first seen and again when it advertises a new address. A peer whose records expire (or that says goodbye) is
/// forgotten and reported again when it comes back. ``stop()`` sends a goodbye and closes the socket. It is also a
/// swift-service-lifecycle `Service` (``run()``).
///
/// Concurrency: the protocol logic is a pure ``MDNSDiscoveryStateMachine`` behind one `Mutex` (``LockedState``).
/// One serving task, created by ``start()`` and awaited by ``stop()``, reads datagrams and runs the timer.
public final class MDNSDiscovery: Service, Sendable {
    /// Peers found on the network. Iterate it from one task only; it ends after ``stop()``.
    public let discovered: AsyncStream<DiscoveredPeer>
    /// The random DNS label we advertise under (`<peerName>._p2p._udp.local`).
    public let peerName: String
    /// Our peer ID.
    public let localPeer: PeerID
    /// The settings.
    public let configuration: MDNSConfiguration

    private let listenAddresses: @Sendable () -> [Multiaddr]
    private let group: any EventLoopGroup
    private let logger: Logger
    private let clock: ElapsedClock
    private let state: LockedState<State>
    private let discoveredContinuation: AsyncStream<DiscoveredPeer>.Continuation
    private let wakeUps: AsyncStream<Void>
    private let wakeUpContinuation: AsyncStream<Void>.Continuation

    private enum Phase {
        case idle
        case starting
        case running(channel: any Channel, groupAddress: SocketAddress, serving: Task<Void, Never>)
        case stopped(serving: Task<Void, Never>?)
    }

    private struct State {
        var phase: Phase = .idle
        var machine: MDNSDiscoveryStateMachine
        var wakeUpAt: NIODeadline?
    }

    /// Discovery that advertises `host`'s listen addresses (read whenever a query or response is due).
    ///
    /// - Parameters:
    ///   - host: the host whose peer ID and listen addresses to advertise.
    ///   - configuration: the group, port, interface and timing.
    ///   - eventLoopGroup: the NIO loops for the socket (`nil`: NIOPosix's shared singleton).
    ///   - logger: receives `trace`/`debug` records.
    ///   - clock: times queries and record expiry (a manual clock in tests).
    public convenience init(
        host: LibP2PHost,
        configuration: MDNSConfiguration = MDNSConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "p2p.mdns", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: any Clock<Duration> = ContinuousClock()
    ) throws {
        try self.init(
            localPeer: host.peerID,
            listenAddresses: { [weak host] in host?.listenAddresses ?? [] },
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            clock: clock
        )
    }

    /// Discovery that advertises whatever `listenAddresses` returns for `localPeer`.
    ///
    /// - Throws: ``P2PHostError`` with code `unsupportedAddress` when the service name is not a valid DNS name.
    public init(
        localPeer: PeerID,
        listenAddresses: @escaping @Sendable () -> [Multiaddr],
        configuration: MDNSConfiguration = MDNSConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "p2p.mdns", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: any Clock<Duration> = ContinuousClock()
    ) throws {
        let serviceName: DNSName
        do {
            serviceName = try DNSName(parsing: configuration.serviceName)
        } catch {
            throw P2PHostError(.unsupportedAddress, "mDNS service name: \(error.message)")
        }
        guard serviceName.labels.count >= 3 else {
            throw P2PHostError(
                .unsupportedAddress,
                "mDNS service name \(configuration.serviceName) is not of the form _name._udp.local"
            )
        }
        var generator = SystemRandomNumberGenerator()
        self.peerName = MDNSDiscoveryStateMachine.randomPeerName(using: &generator)
        self.localPeer = localPeer
        self.configuration = configuration
        self.listenAddresses = listenAddresses
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        var logger = logger
        logger[metadataKey: "p2p.local"] = "\(localPeer)"
        self.logger = logger
        self.clock = ElapsedClock(clock)
        let machine = try MDNSDiscoveryStateMachine(
            localPeer: localPeer,
            peerName: self.peerName,
            configuration: MDNSDiscoveryStateMachine.Configuration(
                serviceName: serviceName,
                queryInterval: ElapsedClock.timeAmount(configuration.queryInterval),
                recordTTL: UInt32(clamping: configuration.recordTTL.components.seconds)
            )
        )
        self.state = LockedState(State(machine: machine))
        (self.discovered, self.discoveredContinuation) = AsyncStream<DiscoveredPeer>.makeStream(
            bufferingPolicy: .bufferingNewest(1024)
        )
        (self.wakeUps, self.wakeUpContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The peers currently known (not expired), sorted by peer ID.
    public var knownPeers: [DiscoveredPeer] {
        self.state.withLock { $0.machine.knownPeers }
    }

    /// Opens the socket, joins the group and sends the first query.
    ///
    /// - Throws: ``P2PHostError`` with code `listenFailed` when the socket cannot be bound or cannot join the
    ///   group, and `notRunning` when called twice.
    public func start() async throws {
        try self.state.withLock { state throws(P2PHostError) in
            guard case .idle = state.phase else {
                throw P2PHostError(.notRunning, "mDNS discovery was already started")
            }
            state.phase = .starting
        }
        let (inbound, inboundContinuation) = AsyncStream<MDNSInbound>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let channel: any Channel
        let groupAddress: SocketAddress
        do {
            (channel, groupAddress) = try await self.openSocket(continuation: inboundContinuation)
        } catch {
            self.state.withLock { $0.phase = .stopped(serving: nil) }
            self.discoveredContinuation.finish()
            throw error
        }
        let addresses = self.advertisableAddresses()
        let now = self.clock.now
        let query = self.state.withLock { state -> DNSMessage in
            state.machine.addressesChanged(addresses)
            let action = state.machine.start(now: now)
            switch action {
            case .sendQuery(let query, let wakeUpAt):
                state.wakeUpAt = wakeUpAt
                return query
            }
        }
        self.send(query, on: channel, to: groupAddress)
        // The serving task: `stop()` (or `run()`'s cancellation) ends it by closing the channel, and awaits it.
        let serving = Task {
            await self.serve(inbound: inbound, channel: channel, groupAddress: groupAddress)
        }
        let stoppedMeanwhile = self.state.withLock { state -> Bool in
            guard case .starting = state.phase else { return true }
            state.phase = .running(channel: channel, groupAddress: groupAddress, serving: serving)
            return false
        }
        if stoppedMeanwhile {
            serving.cancel()
            channel.close(promise: nil)
            await serving.value
        }
        self.logger.debug(
            "mDNS discovery started",
            metadata: ["mdns.name": "\(self.peerName)", "mdns.addresses": "\(addresses)"]
        )
    }

    /// Sends a goodbye, closes the socket, ends ``discovered`` and waits for the serving task.
    public func stop() async {
        let running = self.state.withLock { state -> (any Channel, SocketAddress, Task<Void, Never>, DNSMessage?)? in
            switch state.phase {
            case .running(let channel, let groupAddress, let serving):
                state.phase = .stopped(serving: serving)
                return (channel, groupAddress, serving, state.machine.stop())
            case .idle, .starting:
                state.phase = .stopped(serving: nil)
                _ = state.machine.stop()
                return nil
            case .stopped:
                return nil
            }
        }
        guard let (channel, groupAddress, serving, goodbye) = running else {
            self.discoveredContinuation.finish()
            return
        }
        if let goodbye, let bytes = try? goodbye.encoded() {
            let envelope = AddressedEnvelope(remoteAddress: groupAddress, data: ByteBuffer(bytes: bytes))
            try? await channel.writeAndFlush(envelope).get()
        }
        try? await channel.close()
        serving.cancel()
        await serving.value
        self.discoveredContinuation.finish()
        self.logger.debug("mDNS discovery stopped")
    }

    /// Runs until the task is cancelled or a graceful shutdown is triggered, then stops.
    public func run() async throws {
        try await self.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                let serving = self.state.withLock { state -> Task<Void, Never>? in
                    if case .running(_, _, let serving) = state.phase { return serving }
                    return nil
                }
                await serving?.value
            } onCancel: {
                // The handlers cannot await: this bridge task closes the socket, which ends the serving task that
                // the body awaits; the final `stop()` below then awaits the same shutdown.
                Task { await self.stop() }
            }
        } onGracefulShutdown: {
            // As above: ends the serving task the body awaits.
            Task { await self.stop() }
        }
        await self.stop()
    }

    // MARK: Serving

    private func serve(inbound: AsyncStream<MDNSInbound>, channel: any Channel, groupAddress: SocketAddress) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.runTimer(channel: channel, groupAddress: groupAddress)
            }
            for await input in inbound {
                self.received(input, channel: channel, groupAddress: groupAddress)
            }
            group.cancelAll()
        }
    }

    private func received(_ input: MDNSInbound, channel: any Channel, groupAddress: SocketAddress) {
        switch input {
        case .malformed(let error, let sender):
            self.logger.trace(
                "ignoring a malformed mDNS datagram",
                metadata: ["from": "\(sender)", "error": "\(error)"]
            )
        case .message(let message, _):
            let now = self.clock.now
            let action = self.state.withLock { state -> MDNSDiscoveryStateMachine.MessageReceivedAction in
                let action = state.machine.messageReceived(message, now: now)
                if case .reportPeers(_, _, let wakeUpAt) = action {
                    state.wakeUpAt = wakeUpAt
                }
                return action
            }
            switch action {
            case .respond(let response):
                self.send(response, on: channel, to: groupAddress)
            case .reportPeers(let discovered, let departed, _):
                for peer in discovered {
                    self.logger.debug("mDNS discovered a peer", metadata: ["p2p.peer": "\(peer.peerID)"])
                    self.discoveredContinuation.yield(peer)
                }
                for peer in departed {
                    self.logger.debug("mDNS peer said goodbye", metadata: ["p2p.peer": "\(peer)"])
                }
                self.wakeUpContinuation.yield()
            case .doNothing:
                break
            }
        }
    }

    private func runTimer(channel: any Channel, groupAddress: SocketAddress) async {
        while !Task.isCancelled {
            guard let deadline = self.state.withLock({ $0.wakeUpAt }) else { return }
            let fired = await withTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask {
                    (try? await self.clock.sleep(until: deadline)) != nil
                }
                group.addTask {
                    var wakeUps = self.wakeUps.makeAsyncIterator()
                    _ = await wakeUps.next()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            guard fired, !Task.isCancelled else { continue }
            let addresses = self.advertisableAddresses()
            let now = self.clock.now
            let action = self.state.withLock { state in
                state.machine.addressesChanged(addresses)
                let action = state.machine.timerFired(now: now)
                state.wakeUpAt = action.wakeUpAt
                return action
            }
            if let query = action.query {
                self.send(query, on: channel, to: groupAddress)
            }
            for peer in action.expired {
                self.logger.debug("mDNS records of a peer expired", metadata: ["p2p.peer": "\(peer)"])
            }
        }
    }

    private func send(_ message: DNSMessage, on channel: any Channel, to groupAddress: SocketAddress) {
        do {
            let bytes = try message.encoded()
            let envelope = AddressedEnvelope(remoteAddress: groupAddress, data: ByteBuffer(bytes: bytes))
            channel.writeAndFlush(envelope, promise: nil)
        } catch {
            self.logger.debug("cannot encode an mDNS message", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Addresses and socket

    /// The host's listen addresses with unspecified ones expanded to the machine's interface addresses, filtered
    /// for advertising.
    private func advertisableAddresses() -> [Multiaddr] {
        let listen = self.listenAddresses()
        var expanded: [Multiaddr] = []
        var devices: [NIONetworkDevice]?
        for address in listen {
            guard let first = address.components.first else { continue }
            let isUnspecified: Bool
            switch first {
            case .ip4(let ip): isUnspecified = ip.value == 0
            case .ip6(let ip): isUnspecified = ip.bytes.allSatisfy { $0 == 0 }
            default: isUnspecified = false
            }
            guard isUnspecified else {
                expanded.append(address)
                continue
            }
            if devices == nil {
                devices = (try? System.enumerateDevices()) ?? []
            }
            for device in devices ?? [] {
                guard let ip = device.address.flatMap(Self.component(of:)) else { continue }
                switch (first, ip) {
                case (.ip4, .ip4), (.ip6, .ip6):
                    expanded.append(Multiaddr([ip] + address.components.dropFirst()))
                default:
                    continue
                }
            }
        }
        return MDNSDiscoveryStateMachine.advertisable(
            expanded,
            localPeer: self.localPeer,
            includeLoopback: self.configuration.advertiseLoopback
        )
    }

    private static func component(of address: SocketAddress) -> Multiaddr.Component? {
        guard let text = address.ipAddress else { return nil }
        switch address.protocol {
        case .inet: return (try? IPv4Address(parsing: text)).map { .ip4($0) }
        case .inet6:
            // Link-local addresses need a zone that multiaddrs cannot carry here.
            guard !text.lowercased().hasPrefix("fe80") else { return nil }
            return (try? IPv6Address(parsing: text)).map { .ip6($0) }
        default: return nil
        }
    }

    private func openSocket(
        continuation: AsyncStream<MDNSInbound>.Continuation
    ) async throws(P2PHostError) -> (any Channel, SocketAddress) {
        let configuration = self.configuration
        let groupAddress: SocketAddress
        let device: NIONetworkDevice?
        do {
            switch configuration.ipVersion {
            case .v4: groupAddress = try SocketAddress(ipAddress: "224.0.0.251", port: configuration.port)
            case .v6: groupAddress = try SocketAddress(ipAddress: "ff02::fb", port: configuration.port)
            }
            device = try configuration.interfaceAddress.map { try Self.device(withAddress: $0) }
        } catch let error as P2PHostError {
            throw error
        } catch {
            throw P2PHostError(.listenFailed, "mDNS group address on port \(configuration.port)", underlying: error)
        }
        let logger = self.logger
        let bootstrap = DatagramBootstrap(group: self.group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.Types.SocketOption(level: .socket, name: Self.reusePort), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        MDNSDatagramHandler(continuation: continuation, logger: logger)
                    )
                }
            }
        let bindHost = configuration.ipVersion == .v4 ? "0.0.0.0" : "::"
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: bindHost, port: configuration.port).get()
        } catch {
            throw P2PHostError(
                .listenFailed,
                "cannot bind the mDNS socket to \(bindHost) port \(configuration.port)",
                underlying: error
            )
        }
        do {
            guard let multicast = channel as? any MulticastChannel,
                let options = channel as? any SocketOptionProvider
            else {
                throw P2PHostError(.listenFailed, "the datagram channel supports no multicast")
            }
            switch configuration.ipVersion {
            case .v4:
                if let text = configuration.interfaceAddress {
                    guard let interface = try? IPv4Address(parsing: text) else {
                        throw P2PHostError(.listenFailed, "\(text) is not an IPv4 interface address")
                    }
                    // A `struct in_addr`: the address in network byte order.
                    try await options.unsafeSetSocketOption(
                        level: .ip,
                        name: .ip_multicast_if,
                        value: interface.value.bigEndian
                    ).get()
                }
                try await options.setIPMulticastLoop(1).get()
                try await options.setIPMulticastTTL(255).get()
            case .v6:
                if let device {
                    try await options.setIPv6MulticastIF(CUnsignedInt(device.interfaceIndex)).get()
                }
                try await options.setIPv6MulticastLoop(1).get()
                try await options.setIPv6MulticastHops(255).get()
            }
            if configuration.ipVersion == .v4, let text = configuration.interfaceAddress {
                // NIO's joinGroup refuses interfaces without the MULTICAST flag, such as `lo`, although Linux
                // accepts the membership there (python-zeroconf relies on it); so set IP_ADD_MEMBERSHIP directly.
                let request = IPv4MembershipRequest(
                    group: IPv4Address(224, 0, 0, 251).value.bigEndian,
                    interface: try IPv4Address(parsing: text).value.bigEndian
                )
                try await options.unsafeSetSocketOption(level: .ip, name: .ip_add_membership, value: request).get()
            } else {
                try await multicast.joinGroup(groupAddress, device: device).get()
            }
        } catch {
            try? await channel.close()
            let interface = configuration.interfaceAddress ?? "the default interface"
            throw P2PHostError(
                .listenFailed,
                "cannot join the mDNS group \(groupAddress) on \(interface)",
                underlying: error
            )
        }
        return (channel, groupAddress)
    }

    private static func device(withAddress text: String) throws(P2PHostError) -> NIONetworkDevice {
        let devices: [NIONetworkDevice]
        do {
            devices = try System.enumerateDevices()
        } catch {
            throw P2PHostError(.listenFailed, "cannot list the network interfaces", underlying: error)
        }
        guard let device = devices.first(where: { $0.address?.ipAddress == text }) else {
            throw P2PHostError(.listenFailed, "no network interface has the address \(text) for mDNS")
        }
        return device
    }

    private static let reusePort = NIOBSDSocket.Option(rawValue: SO_REUSEPORT)
}

/// A `struct ip_mreq`: the group and the interface address, both in network byte order.
private struct IPv4MembershipRequest: Sendable {
    var group: UInt32
    var interface: UInt32
}
