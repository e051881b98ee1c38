public import NIOCore
public import P2PCore

/// A way to carry a ``LibP2PHost``'s connections: TCP (``TCPTransport``) or in-memory channels
/// (``InMemoryTransport``).
///
/// A transport only moves bytes: it binds listeners and opens connections as NIO channels, and the host runs the same
/// upgrade (multistream-select, Noise, multistream-select, Yamux) on every channel it gets. The channels must report
/// their `localAddress` and `remoteAddress` as IP socket addresses: the host turns them into `/ip4|ip6/…/tcp/…`
/// multiaddrs (observed addresses in identify, the address in ``HostEvent/peerConnected(peer:direction:address:)``).
/// The host asks the transports in order and uses the first that accepts an address.
public protocol HostTransport: Sendable {
    /// Whether this transport can listen on `address` (a multiaddr without `/p2p`).
    func canListen(on address: Multiaddr) -> Bool

    /// Whether this transport can dial `address` (a multiaddr without `/p2p`).
    func canDial(_ address: Multiaddr) -> Bool

    /// Binds a listener on `address`; every accepted connection's channel goes through `childChannelInitializer`
    /// (on the channel's event loop, before its first read).
    ///
    /// - Parameters:
    ///   - address: where to listen; port 0 picks a free port, which ``HostTransportListener/address`` reports.
    ///   - group: the event loops for the accepted channels.
    ///   - childChannelInitializer: sets up each accepted channel.
    func listen(
        on address: Multiaddr,
        group: any EventLoopGroup,
        childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> any HostTransportListener

    /// Connects to `address`; the future gives what `channelInitializer` produced for the new channel (it runs on
    /// `eventLoop` before the channel becomes active) once the connection is established. It may be called anywhere;
    /// called on `eventLoop` it takes no hop, so that a host's dial and the wait for its upgrade cost the dialing task
    /// one hop onto the loop and one back.
    ///
    /// - Parameters:
    ///   - address: the listener to reach (without `/p2p`).
    ///   - eventLoop: the event loop of the new channel; the returned future belongs to it.
    ///   - timeout: how long connecting may take.
    ///   - channelInitializer: sets up the channel.
    func dial<Output: Sendable>(
        _ address: Multiaddr,
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) -> EventLoopFuture<Output>
}

/// A bound listener of a ``HostTransport``.
public protocol HostTransportListener: Sendable {
    /// The bound address (with the real port when the requested one was 0).
    var address: Multiaddr { get }

    /// Stops accepting connections (established ones stay open); returns without waiting.
    func close()
}
