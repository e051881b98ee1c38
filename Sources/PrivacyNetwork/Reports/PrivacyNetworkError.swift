public import P2PCore

/// The error of the PrivacyNetwork module: stem and sync streams, codecs and the network itself.
///
/// Compare errors by ``code``; the message names the problem for people.
public struct PrivacyNetworkError: CodedError {
    /// What went wrong, in a form that code can switch over.
    public enum Code: Hashable, Sendable {
        /// A peer sent bytes that are not a valid message of the protocol (wrong size, bad layout, bad value).
        case malformedMessage
        /// A peer's message is larger than the protocol allows.
        case messageTooLarge
        /// A peer did not finish its message in time.
        case timedOut
        /// The stream closed before the exchange finished, or could not be opened.
        case streamFailed
        /// An argument outside its allowed range (our caller's mistake, not the peer's).
        case invalidArgument
        /// The user has not joined the network (`joinPrivacyNetwork` is off): nothing was opened.
        case notJoined
        /// The operation needs a running network.
        case notRunning
        /// The network's transport failed to start.
        case startFailed
        /// The peer is refused for a while after repeated invalid messages.
        case peerBlocked
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
}
