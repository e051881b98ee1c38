import Logging
import Synchronization

/// Collects log records for tests that check what was logged, and lets a test wait for a record (no sleeping).
final class LogCapture: Sendable {
    /// One record.
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    private let changes: AsyncStream<Void>.Continuation
    private let updates: AsyncStream<Void>

    init() {
        (self.updates, self.changes) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// A logger at `debug` that records into this capture.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in CaptureHandler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    /// Every record so far.
    var all: [Record] { self.records.withLock { $0 } }

    /// The records matching `message` (and, when given, a `reason` metadata value).
    func matching(_ message: String, reason: String? = nil) -> [Record] {
        self.all.filter { $0.message == message && (reason == nil || $0.metadata["reason"] == reason) }
    }

    /// Waits until at least `count` records match `message` (and `reason`).
    func wait(for message: String, reason: String? = nil, count: Int = 1) async {
        // One iterator: the stream has a single consumer, the waiting test.
        var iterator = self.updates.makeAsyncIterator()
        while self.matching(message, reason: reason).count < count {
            guard await iterator.next() != nil else { return }
        }
    }

    fileprivate func append(_ record: Record) {
        self.records.withLock { $0.append(record) }
        self.changes.yield()
    }
}

private struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        self.capture.append(
            LogCapture.Record(
                level: event.level,
                message: event.message.description,
                metadata: merged.mapValues { "\($0)" }
            )
        )
    }
}
