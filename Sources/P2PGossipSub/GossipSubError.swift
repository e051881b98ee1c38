public import P2PCore

/// The one error type thrown by ``P2PGossipSub``.
///
/// Compare errors by ``code``; ``message`` is for people and may change. Two errors are equal when their
/// codes are equal. Bytes from a peer never trap: every problem with them is reported with this type.
public struct GossipSubError: CodedError {
    /// What went wrong, in a form that code can switch over.
    public enum Code: Hashable, Sendable {
        /// An RPC (or one of its parts) is not valid protobuf or breaks the RPC schema.
        case malformedRPC
        /// An RPC or message is larger than the limit that applies to it.
        case tooLarge
        /// A message breaks the topic's signature policy (missing or unexpected fields).
        case policyViolation
        /// A message's signature, key or author does not verify.
        case invalidSignature
        /// A message with the same ID was already seen (for example the same data under StrictNoSign).
        case duplicateMessage
        /// The operation is not possible in the router's current configuration.
        case invalidConfiguration
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
