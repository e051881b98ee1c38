public import NIOCore

extension Multiaddr {
    /// The socket address of a `/ip4/…/tcp/…` or `/ip6/…/tcp/…` multiaddr, ignoring a trailing `/p2p/`.
    ///
    /// Returns `nil` for any other shape (DNS names need resolving first; UDP is not TCP).
    public var tcpSocketAddress: SocketAddress? {
        let components = self.removingPeerID().components
        guard components.count == 2, case .tcp(let port) = components[1] else { return nil }
        let packed: [UInt8]
        switch components[0] {
        case .ip4(let address): packed = address.bytes
        case .ip6(let address): packed = address.bytes
        default: return nil
        }
        return try? SocketAddress(packedIPAddress: ByteBuffer(bytes: packed), port: Int(port))
    }

    /// The `/ip4/…/tcp/…` or `/ip6/…/tcp/…` multiaddr of an IP socket address, or `nil` for other
    /// address families (Unix domain sockets).
    public init?(tcp socketAddress: SocketAddress) {
        guard let port = socketAddress.port.flatMap({ UInt16(exactly: $0) }) else { return nil }
        // The address bytes straight from the socket address, no text round trip (the host does this for every
        // accepted connection): `sockaddr_in` keeps them at offset 4, `sockaddr_in6` at offset 8, in network order.
        switch socketAddress {
        case .v4:
            let address = socketAddress.withSockAddr { pointer, size in
                IPv4Address(bytes: UnsafeRawBufferPointer(start: pointer, count: size).dropFirst(4).prefix(4))
            }
            guard let address else { return nil }
            self.init([.ip4(address), .tcp(port)])
        case .v6:
            let address = socketAddress.withSockAddr { pointer, size in
                IPv6Address(bytes: UnsafeRawBufferPointer(start: pointer, count: size).dropFirst(8).prefix(16))
            }
            guard let address else { return nil }
            self.init([.ip6(address), .tcp(port)])
        case .unixDomainSocket:
            return nil
        }
    }
}
