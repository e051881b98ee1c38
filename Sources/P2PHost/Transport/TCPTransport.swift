public import NIOCore
import NIOPosix
public import P2PCore

/// TCP on NIOPosix: listens on and dials `/ip4/…/tcp/…` and `/ip6/…/tcp/…` (with `TCP_NODELAY`).
///
/// The default transport of a ``LibP2PHost``. The group passed to its methods must be a NIOPosix group.
public struct TCPTransport: HostTransport {
    /// The receive buffers of a connection: NIO's adaptive sizing, allowed to grow to 256 KiB (NIO's default stops at
    /// 64 KiB, just under one full Noise frame of 65537 bytes, so nearly every frame would span two reads and be
    /// gathered by copying). A read buffer only lives while the read is processed, so idle connections hold none.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024)

    /// A TCP transport.
    public init() {}

    /// Whether `address` is `/ip4|ip6/<address>/tcp/<port>`.
    public func canListen(on address: Multiaddr) -> Bool {
        address.tcpSocketAddress != nil
    }

    /// Whether `address` is `/ip4|ip6/<address>/tcp/<port>`.
    public func canDial(_ address: Multiaddr) -> Bool {
        address.tcpSocketAddress != nil
    }

    /// The accept queue of a listener. NIO's default (128) drops connection attempts beyond it, which then wait for the
    /// dialer's SYN retransmission (a second or more): a node that many peers dial at once (after a restart, or a
    /// bootstrap node) lost half its accept rate with 256 dials in flight.
    static let listenBacklog: Int32 = 1_024

    /// Binds a TCP server socket (with `SO_REUSEADDR` and a ``listenBacklog`` of 1,024).
    public func listen(
        on address: Multiaddr,
        group: any EventLoopGroup,
        childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> any HostTransportListener {
        guard let socketAddress = address.tcpSocketAddress else {
            throw P2PHostError(.unsupportedAddress, "cannot listen on \(address): only /ip4 or /ip6 with /tcp")
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.backlog, value: Self.listenBacklog)
                .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(ChannelOptions.recvAllocator, value: Self.receiveAllocator)
                .childChannelInitializer(childChannelInitializer)
                .bind(to: socketAddress).get()
        } catch {
            throw P2PHostError(.listenFailed, "cannot listen on \(address)", underlying: error)
        }
        guard let local = channel.localAddress, let bound = Multiaddr(tcp: local) else {
            try? await channel.close()
            throw P2PHostError(.listenFailed, "the listener on \(address) has no local address")
        }
        return Listener(address: bound, channel: channel)
    }

    /// Connects a TCP socket within `timeout`.
    public func dial<Output: Sendable>(
        _ address: Multiaddr,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) -> EventLoopFuture<Output> {
        guard let socketAddress = address.tcpSocketAddress else {
            return eventLoop.makeFailedFuture(
                P2PHostError(.unsupportedAddress, "cannot dial \(address): only /ip4 or /ip6 with /tcp is supported")
            )
        }
        // The initializer runs when the channel is created, before it connects; its output is given once the
        // connection is up. A connection that fails before the initializer ran fails the output here.
        let initialized = eventLoop.makePromise(of: Output.self)
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.recvAllocator, value: Self.receiveAllocator)
            .channelInitializer { channel in
                let output = channelInitializer(channel)
                output.cascade(to: initialized)
                return output.map { _ in }
            }
            .connect(to: socketAddress)
            .flatMapError { error in
                initialized.fail(error)
                return eventLoop.makeFailedFuture(
                    P2PHostError(.dialFailed, "cannot connect to \(address)", underlying: error)
                )
            }
            .flatMap { _ in initialized.futureResult }
    }

    private struct Listener: HostTransportListener {
        let address: Multiaddr
        let channel: any Channel

        func close() {
            self.channel.close(promise: nil)
        }
    }
}
