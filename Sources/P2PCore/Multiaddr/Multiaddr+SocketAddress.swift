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
        guard let text = socketAddress.ipAddress, let port = socketAddress.port, let port = UInt16(exactly: port) else {
            return nil
        }
        switch socketAddress {
        case .v4:
            guard let address = try? IPv4Address(parsing: text) else { return nil }
            self.init([.ip4(address), .tcp(port)])
        case .v6:
            guard let address = try? IPv6Address(parsing: text) else { return nil }
            self.init([.ip6(address), .tcp(port)])
        case .unixDomainSocket:
            return nil
        }
    }
}
