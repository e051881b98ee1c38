// Errors of the libp2p Noise secure channel (https://github.com/libp2p/specs/blob/master/noise/README.md).

/// An error raised by the Noise secure channel.
///
/// Every Noise failure is connection-scoped: the handler fires it down the pipeline and closes the
/// connection. Compare errors by ``code``; ``message`` explains the specific problem for humans.
public struct NoiseError: Error, CustomStringConvertible {
    /// What went wrong, as a stable category.
    public enum Code: Hashable, Sendable {
        /// A frame's 2-byte length prefix announced more bytes than allowed.
        case frameTooLarge
        /// The connection ended in the middle of a frame.
        case truncatedFrame
        /// A handshake message had the wrong size or shape.
        case malformedHandshakeMessage
        /// A handshake or transport ciphertext failed authentication (tampered or garbage bytes).
        case decryptionFailed
        /// The remote Diffie-Hellman public key is a low-order point (the shared secret is all zeros).
        case invalidRemoteKey
        /// The decrypted handshake payload is not a valid `NoiseHandshakePayload` protobuf.
        case invalidPayload
        /// The remote identity key could not be decoded or is of an unsupported type.
        case invalidIdentityKey
        /// The identity signature over the remote Noise static key does not verify.
        case invalidSignature
        /// The remote peer authenticated as a different peer than the one we dialled.
        case peerIDMismatch
        /// A cipher state used its last nonce; the connection must be closed.
        case nonceExhausted
        /// A message would not fit in one Noise frame.
        case messageTooLarge
        /// The connection closed before the handshake finished.
        case handshakeIncomplete
        /// The channel was already closed or failed when the operation was attempted.
        case channelClosed
    }

    /// The category of the failure.
    public let code: Code
    /// A human-readable explanation naming the problem.
    public let message: String
    /// The lower-level error that caused this one, if any.
    public let underlying: (any Error)?
    /// The source file that raised the error.
    public let file: String
    /// The source line that raised the error.
    public let line: Int

    init(_ code: Code, _ message: String, underlying: (any Error)? = nil, file: String, line: Int) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// A one-line summary: the code and the message.
    public var description: String {
        var text = "NoiseError.\(self.code): \(self.message)"
        if let underlying = self.underlying {
            text += " (underlying: \(underlying))"
        }
        return text
    }
}

extension NoiseError: Equatable {
    /// Two errors are equal when their codes are equal.
    public static func == (lhs: NoiseError, rhs: NoiseError) -> Bool {
        lhs.code == rhs.code
    }
}

extension NoiseError {
    static func frameTooLarge(length: Int, limit: Int, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(
            .frameTooLarge,
            "frame length \(length) exceeds the limit of \(limit) bytes",
            file: file,
            line: line
        )
    }

    static func truncatedFrame(
        buffered: Int,
        expected: Int?,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        let what = expected.map { "\(buffered) of \($0) frame bytes" } ?? "\(buffered) byte(s) of a length prefix"
        return NoiseError(.truncatedFrame, "connection ended after \(what)", file: file, line: line)
    }

    static func malformedHandshakeMessage(
        _ message: String,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        NoiseError(.malformedHandshakeMessage, message, file: file, line: line)
    }

    static func decryptionFailed(
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        NoiseError(.decryptionFailed, message, underlying: underlying, file: file, line: line)
    }

    static func invalidRemoteKey(_ message: String, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(.invalidRemoteKey, message, file: file, line: line)
    }

    static func invalidPayload(
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        NoiseError(.invalidPayload, message, underlying: underlying, file: file, line: line)
    }

    static func invalidIdentityKey(
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        NoiseError(.invalidIdentityKey, message, underlying: underlying, file: file, line: line)
    }

    static func invalidSignature(_ message: String, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(.invalidSignature, message, file: file, line: line)
    }

    static func peerIDMismatch(
        expected: String,
        actual: String,
        file: String = #fileID,
        line: Int = #line
    ) -> NoiseError {
        NoiseError(
            .peerIDMismatch,
            "expected remote peer \(expected) but it authenticated as \(actual)",
            file: file,
            line: line
        )
    }

    static func nonceExhausted(file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(.nonceExhausted, "the cipher state used its last nonce (2^64 - 2)", file: file, line: line)
    }

    static func messageTooLarge(length: Int, limit: Int, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(
            .messageTooLarge,
            "message of \(length) bytes does not fit in a Noise frame (limit \(limit) bytes)",
            file: file,
            line: line
        )
    }

    static func handshakeIncomplete(_ message: String, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(.handshakeIncomplete, message, file: file, line: line)
    }

    static func channelClosed(_ message: String, file: String = #fileID, line: Int = #line) -> NoiseError {
        NoiseError(.channelClosed, message, file: file, line: line)
    }
}
