import NIOCore
import P2PCore
import P2PYamux

/// One upgraded connection as the ``LibP2PHost`` tracks it.
final class HostConnection: Sendable {
    /// The host-local connection number (for logs and the registry).
    let id: UInt64
    /// The authenticated peer.
    let remotePeer: PeerID
    /// Who dialed.
    let direction: ConnectionDirection
    /// The peer's socket address as a multiaddr.
    let address: Multiaddr?
    /// The Yamux session.
    let session: YamuxSession
    /// The TCP channel.
    let channel: any Channel
    /// Counts open streams (for the idle timeout).
    let streams: StreamTracker

    init(id: UInt64, upgraded: UpgradedConnection, direction: ConnectionDirection, address: Multiaddr?) {
        self.id = id
        self.remotePeer = upgraded.remotePeer
        self.direction = direction
        self.address = address
        self.session = upgraded.session
        self.channel = upgraded.channel
        self.streams = upgraded.streams
    }

    /// Sends Yamux Go Away, then closes the connection.
    func close() {
        self.session.goAway()
        self.channel.close(promise: nil)
    }
}
