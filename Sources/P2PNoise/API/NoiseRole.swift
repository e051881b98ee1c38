/// Which side of a Noise handshake we play: the initiator sends the first message.
public enum NoiseRole: Hashable, Sendable {
    /// The side that sends message 1 (in libp2p, the side that dialled the connection).
    case initiator
    /// The side that answers with message 2 (in libp2p, the side that accepted the connection).
    case responder
}
