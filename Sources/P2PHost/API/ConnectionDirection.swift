/// Who opened a connection.
public enum ConnectionDirection: String, Hashable, Sendable {
    /// The peer dialed us.
    case inbound
    /// We dialed the peer.
    case outbound
}
