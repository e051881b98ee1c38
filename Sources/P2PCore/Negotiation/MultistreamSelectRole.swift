/// Which side of a multistream-select negotiation we are, and the protocols we bring.
public enum MultistreamSelectRole: Hashable, Sendable {
    /// The initiator: proposes `protocols` in order until the listener accepts one.
    case dialer(proposing: [String])
    /// The responder: accepts the first proposal that is in `protocols` and answers `na` to others.
    case listener(supporting: [String])
}
