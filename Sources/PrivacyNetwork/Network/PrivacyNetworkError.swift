/// Why a ``P2PPrivacyNetwork`` operation failed.
public struct PrivacyNetworkError: Error, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Hashable, Sendable {
        /// The user has not joined the network (`joinPrivacyNetwork` is off): nothing was opened.
        case notJoined
        /// The operation needs a running network.
        case notRunning
        /// The transport failed to start.
        case startFailed
        /// The current time is outside the epoch numbering.
        case clock
    }

    /// The kind of failure.
    public let code: Code
    /// A one-line reason.
    public let message: String
    /// The error behind this one.
    public let underlying: (any Error)?

    init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The reason, with the underlying error's.
    public var description: String {
        self.underlying.map { "\(self.message): \($0)" } ?? self.message
    }
}
