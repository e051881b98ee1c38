public import P2PCore

/// The error of the P2PHost module: transports, the upgrade pipeline, identify, ping and the ``LibP2PHost``.
///
/// Compare errors by ``code``; the message names the problem for people.
public struct P2PHostError: CodedError {
    /// What went wrong, in a form that code can switch over.
    public enum Code: Hashable, Sendable {
        /// A multiaddr that this host cannot listen on or dial (not ip4/ip6 + tcp).
        case unsupportedAddress
        /// Binding a listener failed.
        case listenFailed
        /// Connecting to the peer failed or did not finish in time.
        case dialFailed
        /// The connection upgrade (multistream-select, Noise, Yamux) failed or did not finish in time.
        case upgradeFailed
        /// Too many connection handshakes are already in flight.
        case tooManyHandshakes
        /// The connection limit is reached.
        case tooManyConnections
        /// There is no connection to the peer.
        case notConnected
        /// The peer supports none of the protocols we proposed on a stream.
        case protocolNotSupported
        /// The peer sent bytes that break a protocol (identify, ping).
        case protocolViolation
        /// A message from the peer exceeds its size limit.
        case messageTooLarge
        /// An operation did not finish in time.
        case timedOut
        /// The stream or connection closed before the operation finished.
        case closed
        /// The stream was aborted with a Yamux reset (RST) by the peer or by us, rather than closed cleanly.
        case streamReset
        /// The host is not running (not started, or shut down).
        case notRunning
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation naming the problem.
    public let message: String
    /// The error that caused this one, if any.
    public let underlying: (any Error & Sendable)?
    /// Where the error was created.
    public let location: ErrorSourceLocation

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        underlying: (any Error & Sendable)? = nil,
        fileID: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.location = ErrorSourceLocation(fileID: fileID, line: line)
    }

    /// Host errors read as their message alone (the CLI prints them as the one-line reason).
    public var descriptionPrefix: String { "" }
}
