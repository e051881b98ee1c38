public import P2PCore

/// The one error type of NodeRuntime's storage, configuration and native-messaging code.
///
/// Compare errors by ``code``; ``message`` names the problem (and the file, when there is one) for people.
public struct NodeRuntimeError: CodedError {
    /// What went wrong, in a form that code can switch over.
    public enum Code: Hashable, Sendable {
        /// A file or directory could not be created, read, written or have its permissions set.
        case fileSystem
        /// A file's content is malformed (key file, token file, endpoint file, database value).
        case malformedFile
        /// A file is larger than the limit that applies to it.
        case fileTooLarge
        /// A file holding a secret can be read by other users.
        case insecurePermissions
        /// A duration such as `20s` could not be parsed.
        case invalidDuration
        /// A setting has a value out of its range or of the wrong type.
        case invalidSetting
        /// The SQLite database failed (open, migration, query).
        case database
        /// A native-messaging frame or message is malformed or too large.
        case invalidMessage
        /// The local node is not running (no endpoint file, or nobody answers at its address).
        case nodeNotRunning
        /// The local node answered with an error or with something that is not the expected JSON.
        case nodeRequestFailed
        /// A browser, extension ID or manifest location is not valid.
        case invalidInstallation
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

    /// Omits the type name: these messages are shown to users as they are.
    public var descriptionPrefix: String { "" }
}
