/// Where an error was created in our source code.
public struct ErrorSourceLocation: Hashable, Sendable {
    /// The `#fileID` of the throw site.
    public var fileID: String
    /// The line of the throw site.
    public var line: Int

    /// A location from a throw site's `#fileID` and `#line`.
    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }
}

/// The shape of the stack's error structs (style guide §2.5): a ``code`` that code switches over, a
/// message that names the problem for people, an optional cause and the throw site. Two errors are
/// equal when their codes are equal.
public protocol CodedError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    associatedtype Code: Hashable & Sendable
    /// The kind of failure.
    var code: Code { get }
    /// A human-readable explanation naming the problem.
    var message: String { get }
    /// The error that caused this one, if any.
    var underlying: (any Error & Sendable)? { get }
    /// Where the error was created.
    var location: ErrorSourceLocation { get }
    /// What ``description`` puts before the message (by default the type and the code).
    var descriptionPrefix: String { get }
}

extension CodedError {
    /// The type name and the code, e.g. `P2PCoreError.timedOut: `.
    public var descriptionPrefix: String { "\(Self.self).\(self.code): " }

    /// A one-line description: the prefix, the message and, if present, the underlying error.
    public var description: String {
        var text = self.descriptionPrefix + self.message
        if let underlying = self.underlying {
            text += " (caused by: \(underlying))"
        }
        return text
    }

    /// Errors are equal when their codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code
    }

    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}
