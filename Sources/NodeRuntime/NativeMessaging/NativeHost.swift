import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The native messaging host's loop: reads frames from the browser, answers each with one framed reply,
/// and returns when the input ends.
public enum NativeHost {
    /// What happened during a run.
    public struct Summary: Hashable, Sendable {
        /// Frames answered (including error replies).
        public var replies: Int
        /// How the input ended.
        public var ending: NativeMessageFrameDecoder.Ending
    }

    /// Serves requests from `input` (chunks of bytes as they are read) until it ends, passing each framed
    /// reply to `output`. A malformed frame gets an error reply and reading continues; a truncated last
    /// frame gets an error reply before returning.
    /// - Throws: whatever `input` or `output` throws (e.g. the browser closed the pipe).
    public static func run<Input: AsyncSequence<[UInt8], any Error>>(
        input: Input,
        dispatcher: NativeMessageDispatcher,
        output: (_ framedReply: [UInt8]) async throws -> Void
    ) async throws -> Summary {
        var decoder = NativeMessageFrameDecoder()
        var replies = 0
        for try await chunk in input {
            decoder.append(chunk)
            while let event = decoder.next() {
                let reply = await dispatcher.reply(to: event)
                // The dispatcher bounds every reply to the outgoing limit, so framing cannot fail.
                try await output(try NativeMessageFraming.frame(reply))
                replies += 1
            }
        }
        let ending = decoder.finish()
        if case .truncated(let missing) = ending {
            try await output(try NativeMessageFraming.frame(dispatcher.replyToTruncatedInput(missingBytes: missing)))
            replies += 1
        }
        return Summary(replies: replies, ending: ending)
    }

    /// Chunks read from a file descriptor (standard input by default) on a dedicated thread, so blocking
    /// reads never hold a Swift concurrency thread. The stream ends at end of input; a read error ends it
    /// with that error.
    public static func inputChunks(fileDescriptor: Int32 = 0) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(16)
        )
        let thread = ReaderThread(fileDescriptor: fileDescriptor, continuation: continuation)
        thread.start()
        return stream
    }

    /// Writes all of `bytes` to a file descriptor (standard output by default).
    /// - Throws: ``NodeRuntimeError/Code/fileSystem`` when the write fails (e.g. the browser went away).
    public static func writeAll(_ bytes: [UInt8], fileDescriptor: Int32 = 1) throws(NodeRuntimeError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(fileDescriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw NodeRuntimeError(.fileSystem, "cannot write to the browser: \(String(cString: strerror(errno)))")
            }
            written += result
        }
    }
}

/// Reads a descriptor until end of input and feeds the chunks to a stream.
private final class ReaderThread: Sendable {
    private let fileDescriptor: Int32
    private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation

    init(fileDescriptor: Int32, continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation) {
        self.fileDescriptor = fileDescriptor
        self.continuation = continuation
    }

    func start() {
        let thread = Thread { self.readLoop() }
        thread.name = "native-host-input"
        thread.start()
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                read(self.fileDescriptor, raw.baseAddress!, raw.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                self.continuation.finish(throwing: NodeRuntimeError(.fileSystem, "cannot read the input: \(reason)"))
                return
            }
            if count == 0 {
                self.continuation.finish()
                return
            }
            // The stream keeps at most 16 chunks (1 MiB): when it is full, wait for the reader to catch up.
            let chunk = Array(buffer[0..<count])
            var delivered = false
            while !delivered {
                switch self.continuation.yield(chunk) {
                case .enqueued: delivered = true
                case .terminated: return
                case .dropped: usleep(1_000)
                @unknown default: delivered = true
                }
            }
        }
    }
}
