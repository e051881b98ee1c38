public import NIOCore
public import P2PCore

/// A network inside one process for ``LibP2PHost``s: no sockets, no ports, the same upgrade as over TCP.
///
/// Each ``InMemoryTransport`` made by ``makeTransport()`` is one virtual host with its own IPv4 address in
/// `127.0.1.0/24` and up (`127.0.1.1`, `127.0.1.2`, …). Our ``Multiaddr`` has no `/memory` component, so in-memory
/// addresses are written as ordinary loopback TCP multiaddrs, `/ip4/127.0.1.1/tcp/10000`, in the network's own
/// address space: they name in-memory listeners only, and a host that uses the in-memory transport alone never opens
/// a socket for them. Ports are virtual too (listeners asking for port 0 get 10000, 10001, … per virtual host;
/// dialers get the next free one as their source port, which the listener sees as the observed address).
///
/// Connections are pairs of in-memory channels (one `execute` on the receiving loop per flush). Put every host on
/// one event loop with virtual time (NIO's `NIOAsyncTestingEventLoop`) and give them an ``EventLoopClock`` over it:
/// then all timers (handshake and negotiation timeouts, Yamux keepalive, idle closes, redial backoff) fire only when
/// the test advances that loop, and tests need no sleeps. ``setIsolated(_:host:)`` cuts a virtual host off: bytes to
/// and from it vanish while its connections stay open, as behind a dead link (closes still get through).
///
/// Concurrency: the listener registry sits behind one `Mutex` (``LockedState``).
public final class InMemoryNetwork: Sendable {
    /// One end of an in-memory connection: a virtual host and port.
    struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        var host: IPv4Address
        var port: UInt16

        var socketAddress: SocketAddress? {
            try? SocketAddress(packedIPAddress: ByteBuffer(bytes: self.host.bytes), port: Int(self.port))
        }

        var multiaddr: Multiaddr {
            Multiaddr([.ip4(self.host), .tcp(self.port)])
        }

        var description: String { "\(self.host):\(self.port)" }
    }

    private struct Listener: Sendable {
        var id: UInt64
        var group: any EventLoopGroup
        var initializer: @Sendable (any Channel) -> EventLoopFuture<Void>
    }

    private struct State: Sendable {
        var listeners: [Endpoint: Listener] = [:]
        var hostCount: UInt32 = 0
        var nextPort: [IPv4Address: UInt16] = [:]
        var isolated: Set<IPv4Address> = []
        var nextListenerID: UInt64 = 0

        /// The next port of `host` that no listener holds (ports count up from 10000 and wrap).
        mutating func allocatePort(on host: IPv4Address) throws(P2PHostError) -> UInt16 {
            var port = self.nextPort[host] ?? InMemoryNetwork.firstPort
            for _ in 0...Int(UInt16.max) {
                let candidate = port
                port = port == .max ? InMemoryNetwork.firstPort : port + 1
                if self.listeners[Endpoint(host: host, port: candidate)] == nil {
                    self.nextPort[host] = port
                    return candidate
                }
            }
            throw P2PHostError(.listenFailed, "every virtual port of \(host) is taken")
        }
    }

    /// The first virtual port handed out.
    static let firstPort: UInt16 = 10_000
    /// The first virtual host address: `127.0.1.1`.
    private static let firstHost = IPv4Address(127, 0, 1, 1).value
    /// The most virtual hosts (up to `127.255.255.255`).
    private static let maxHosts = IPv4Address(127, 255, 255, 255).value - IPv4Address(127, 0, 1, 1).value

    private let state = LockedState(State())

    /// An empty network.
    public init() {}

    /// A transport for one more virtual host of this network, with its own IPv4 address.
    public func makeTransport() -> InMemoryTransport {
        let value = self.state.withLock { state -> UInt32 in
            precondition(state.hostCount < Self.maxHosts, "an in-memory network holds at most \(Self.maxHosts) hosts")
            defer { state.hostCount += 1 }
            return Self.firstHost + state.hostCount
        }
        let address = IPv4Address(
            UInt8(value >> 24),
            UInt8((value >> 16) & 0xFF),
            UInt8((value >> 8) & 0xFF),
            UInt8(value & 0xFF)
        )
        return InMemoryTransport(network: self, hostAddress: address)
    }

    /// Cuts the virtual host at `host` off (or reconnects it): while isolated, bytes flushed to or from it vanish;
    /// connections stay open and closes still get through.
    public func setIsolated(_ isolated: Bool, host: IPv4Address) {
        self.state.withLock { state in
            if isolated {
                state.isolated.insert(host)
            } else {
                state.isolated.remove(host)
            }
        }
    }

    /// The bound listener addresses, sorted by text.
    public var listenAddresses: [Multiaddr] {
        self.state.withLock { Array($0.listeners.keys) }.map(\.multiaddr).sorted { $0.description < $1.description }
    }

    /// Whether bytes currently flow between `a` and `b`.
    func carries(_ a: Endpoint, _ b: Endpoint) -> Bool {
        self.state.withLock { state in
            state.isolated.isEmpty || (!state.isolated.contains(a.host) && !state.isolated.contains(b.host))
        }
    }

    // MARK: Listeners and dials

    /// Registers a listener at `port` of `host` (0: the next free port).
    func bind(
        host: IPv4Address,
        port: UInt16,
        group: any EventLoopGroup,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) throws(P2PHostError) -> (endpoint: Endpoint, id: UInt64) {
        try self.state.withLock { state throws(P2PHostError) -> (Endpoint, UInt64) in
            let chosen = port == 0 ? try state.allocatePort(on: host) : port
            let endpoint = Endpoint(host: host, port: chosen)
            guard state.listeners[endpoint] == nil else {
                throw P2PHostError(.listenFailed, "\(endpoint.multiaddr) is already in use in the in-memory network")
            }
            state.nextListenerID += 1
            state.listeners[endpoint] = Listener(id: state.nextListenerID, group: group, initializer: initializer)
            return (endpoint, state.nextListenerID)
        }
    }

    /// Removes the listener numbered `id` at `endpoint`.
    func unbind(_ endpoint: Endpoint, id: UInt64) {
        self.state.withLock { state in
            if state.listeners[endpoint]?.id == id {
                state.listeners[endpoint] = nil
            }
        }
    }

    /// Connects a new channel of `host` to the listener at `remote`: the listener's initializer runs first, then
    /// `initializer` on the dialer's channel, then both become active.
    func connect<Output: Sendable>(
        from host: IPv4Address,
        to remote: Endpoint,
        on dialerLoop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) -> EventLoopFuture<Output> {
        let listener: Listener
        let local: Endpoint
        do {
            (listener, local) = try self.state.withLock { state throws(P2PHostError) -> (Listener, Endpoint) in
                guard let listener = state.listeners[remote] else {
                    throw P2PHostError(
                        .dialFailed,
                        "connection refused: nothing listens on \(remote.multiaddr) in the in-memory network"
                    )
                }
                return (listener, Endpoint(host: host, port: try state.allocatePort(on: host)))
            }
        } catch {
            return dialerLoop.makeFailedFuture(error)
        }
        let listenerLoop = listener.group.next()
        let (dialing, accepted) = InMemoryChannel.pair(
            network: self,
            dialer: (dialerLoop, local),
            listener: (listenerLoop, remote)
        )
        // The listener side is set up first, as a socket is accepted before the dialer's connect completes.
        return listenerLoop.flatSubmit { listener.initializer(accepted) }
            .hop(to: dialerLoop)
            .flatMapErrorThrowing { error in
                throw P2PHostError(
                    .dialFailed,
                    "the in-memory listener at \(remote.multiaddr) failed",
                    underlying: error
                )
            }
            .flatMap { initializer(dialing) }
            .flatMapErrorThrowing { error in
                accepted.close(promise: nil)
                dialing.close(promise: nil)
                throw error
            }
            .flatMap { output in
                listenerLoop.submit { accepted.activate() }
                    .hop(to: dialerLoop)
                    .map { dialing.activate() }
                    .map { output }
            }
    }
}

/// The transport of one virtual host in an ``InMemoryNetwork``.
///
/// It listens on and dials `/ip4/<address>/tcp/<port>` multiaddrs of its network (see ``InMemoryNetwork`` for the
/// addressing). A listen address's IP is replaced by the transport's ``hostAddress`` (as if it were `0.0.0.0`); its
/// port is kept, and port 0 picks the next free virtual port.
public struct InMemoryTransport: HostTransport {
    /// The network this transport belongs to.
    public let network: InMemoryNetwork
    /// The virtual host's IPv4 address.
    public let hostAddress: IPv4Address

    init(network: InMemoryNetwork, hostAddress: IPv4Address) {
        self.network = network
        self.hostAddress = hostAddress
    }

    /// Cuts this virtual host off the network, or reconnects it (``InMemoryNetwork/setIsolated(_:host:)``).
    public func setIsolated(_ isolated: Bool) {
        self.network.setIsolated(isolated, host: self.hostAddress)
    }

    /// Whether `address` is `/ip4/<address>/tcp/<port>`.
    public func canListen(on address: Multiaddr) -> Bool {
        Self.endpoint(of: address) != nil
    }

    /// Whether `address` is `/ip4/<address>/tcp/<port>`.
    public func canDial(_ address: Multiaddr) -> Bool {
        Self.endpoint(of: address) != nil
    }

    /// Registers a listener at ``hostAddress`` and the address's port.
    public func listen(
        on address: Multiaddr,
        group: any EventLoopGroup,
        childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> any HostTransportListener {
        guard let requested = Self.endpoint(of: address) else {
            throw P2PHostError(.unsupportedAddress, "cannot listen on \(address) in memory: only /ip4/…/tcp/…")
        }
        let (endpoint, id) = try self.network.bind(
            host: self.hostAddress,
            port: requested.port,
            group: group,
            initializer: childChannelInitializer
        )
        return Listener(network: self.network, endpoint: endpoint, id: id)
    }

    /// Connects to the in-memory listener at `address` (at once, so `timeout` is not needed).
    public func dial<Output: Sendable>(
        _ address: Multiaddr,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) -> EventLoopFuture<Output> {
        guard let remote = Self.endpoint(of: address) else {
            return eventLoop.makeFailedFuture(
                P2PHostError(.unsupportedAddress, "cannot dial \(address) in memory: only /ip4/…/tcp/…")
            )
        }
        return self.network.connect(
            from: self.hostAddress,
            to: remote,
            on: eventLoop,
            initializer: channelInitializer
        )
    }

    private static func endpoint(of address: Multiaddr) -> InMemoryNetwork.Endpoint? {
        let components = address.removingPeerID().components
        guard components.count == 2, case .ip4(let host) = components[0], case .tcp(let port) = components[1] else {
            return nil
        }
        return InMemoryNetwork.Endpoint(host: host, port: port)
    }

    private struct Listener: HostTransportListener {
        let network: InMemoryNetwork
        let endpoint: InMemoryNetwork.Endpoint
        let id: UInt64

        var address: Multiaddr { self.endpoint.multiaddr }

        func close() {
            self.network.unbind(self.endpoint, id: self.id)
        }
    }
}
