import NIOCore

/// The one error type of the Yamux module.
///
/// Compare errors through ``code``: two errors are equal when their codes are equal, whatever their message or
/// the place that threw them.
public struct YamuxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the wording of ``message``.
    public enum Code: Hashable, Sendable {
        /// A frame header carried a version other than 0.
        case unsupportedVersion
        /// A frame header carried an unknown type.
        case unknownFrameType
        /// A data frame announced more payload than the decoder accepts.
        case frameTooLarge
        /// The input ended in the middle of a frame.
        case truncatedFrame
        /// The peer used a stream ID it may not use (zero, wrong parity, or a duplicate).
        case invalidStreamID
        /// The peer sent more data than the receive window allowed.
        case receiveWindowExceeded
        /// The peer grew our send window past the largest representable size.
        case sendWindowOverflow
        /// The peer sent data after closing its side of the stream.
        case dataAfterFin
        /// The stream was refused because the session already has the maximum number of streams.
        case tooManyStreams
        /// The session buffers too many bytes that the application has not read yet.
        case bufferedBytesLimitExceeded
        /// The peer reset the stream.
        case streamReset
        /// The stream or session is closed, or going away, so no new work is possible.
        case sessionClosed
        /// The peer sent a Go Away frame with an error code.
        case goAwayReceived
        /// The peer did not answer a ping in time.
        case keepaliveTimeout
        /// Too many outbound streams wait for the peer's acknowledgement.
        case tooManyUnacknowledgedStreams
        /// A channel operation that Yamux streams do not support.
        case unsupportedOperation
    }

    /// What went wrong.
    public let code: Code
    /// A human-readable explanation naming the problem.
    public let message: String
    /// Where the error was created (`#fileID`).
    public let file: String
    /// Where the error was created (`#line`).
    public let line: Int

    /// Makes an error; prefer the static factories.
    public init(code: Code, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// A one-line rendering: code and message.
    public var description: String {
        "YamuxError(\(self.code)): \(self.message)"
    }

    /// Errors compare equal on their code only.
    public static func == (lhs: YamuxError, rhs: YamuxError) -> Bool {
        lhs.code == rhs.code
    }

    /// Hashes the code only, matching `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension YamuxError {
    static func unsupportedVersion(_ version: UInt8, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .unsupportedVersion,
            message: "frame header has version \(version), only 0 is defined",
            file: file,
            line: line
        )
    }

    static func unknownFrameType(_ type: UInt8, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(code: .unknownFrameType, message: "frame header has unknown type \(type)", file: file, line: line)
    }

    static func frameTooLarge(length: UInt32, limit: Int, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .frameTooLarge,
            message: "data frame of \(length) bytes exceeds the limit of \(limit) bytes",
            file: file,
            line: line
        )
    }

    static func truncatedFrame(leftover: Int, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .truncatedFrame,
            message: "input ended inside a frame (\(leftover) bytes left over)",
            file: file,
            line: line
        )
    }

    static func invalidStreamID(
        _ id: UInt32,
        reason: String,
        file: String = #fileID,
        line: Int = #line
    ) -> YamuxError {
        YamuxError(code: .invalidStreamID, message: "stream \(id): \(reason)", file: file, line: line)
    }

    static func receiveWindowExceeded(
        streamID: UInt32,
        length: Int,
        window: Int,
        file: String = #fileID,
        line: Int = #line
    ) -> YamuxError {
        YamuxError(
            code: .receiveWindowExceeded,
            message: "stream \(streamID): \(length) data bytes received with a receive window of \(window)",
            file: file,
            line: line
        )
    }

    static func sendWindowOverflow(streamID: UInt32, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .sendWindowOverflow,
            message: "stream \(streamID): window update grows the send window past 2^32-1",
            file: file,
            line: line
        )
    }

    static func dataAfterFin(streamID: UInt32, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .dataAfterFin,
            message: "stream \(streamID): data received after the peer's FIN",
            file: file,
            line: line
        )
    }

    static func tooManyStreams(limit: Int, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .tooManyStreams,
            message: "the session already has its maximum of \(limit) streams",
            file: file,
            line: line
        )
    }

    static func bufferedBytesLimitExceeded(
        streamID: UInt32,
        limit: Int,
        file: String = #fileID,
        line: Int = #line
    ) -> YamuxError {
        YamuxError(
            code: .bufferedBytesLimitExceeded,
            message: "stream \(streamID) reset: the session would buffer more than \(limit) unread bytes",
            file: file,
            line: line
        )
    }

    static func streamReset(streamID: UInt32, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(code: .streamReset, message: "stream \(streamID) was reset", file: file, line: line)
    }

    static func sessionClosed(_ detail: String, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(code: .sessionClosed, message: detail, file: file, line: line)
    }

    static func goAwayReceived(code: UInt32, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .goAwayReceived,
            message: "peer sent Go Away with error code \(code)",
            file: file,
            line: line
        )
    }

    static func keepaliveTimeout(
        after timeout: TimeAmount,
        file: String = #fileID,
        line: Int = #line
    ) -> YamuxError {
        YamuxError(
            code: .keepaliveTimeout,
            message: "peer did not answer a ping within \(timeout.nanoseconds / 1_000_000) ms",
            file: file,
            line: line
        )
    }

    static func tooManyUnacknowledgedStreams(
        limit: Int,
        file: String = #fileID,
        line: Int = #line
    ) -> YamuxError {
        YamuxError(
            code: .tooManyUnacknowledgedStreams,
            message: "\(limit) outbound streams already wait for the peer's ACK",
            file: file,
            line: line
        )
    }

    static func unsupportedOperation(_ what: String, file: String = #fileID, line: Int = #line) -> YamuxError {
        YamuxError(
            code: .unsupportedOperation,
            message: "\(what) is not supported on Yamux streams",
            file: file,
            line: line
        )
    }
}
