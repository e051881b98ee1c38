import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Tag {
    /// Tests that open real sockets or start subprocesses.
    @Tag static var integration: Self
}

/// A `Mutex` in a class, so escaping closures can share it.
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.mutex.withLock { (value: inout sending Value) -> Result in body(&value) }
    }
}

/// Why an integration test could not run or failed to observe something.
struct IntegrationFailure: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every few milliseconds until it holds; throws when `timeout` passes first and
/// `CancellationError` when the task is cancelled (for state that has no event to wait on, such as a host's counts).
///
/// The timeout is generous on purpose: it only bounds a broken test, and a loaded machine may be slow to get there.
func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(60),
    _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            throw IntegrationFailure(description: "timed out after \(timeout) waiting for \(what())")
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Wakes waiters whenever something changed (a process printed a line, a service reported an event).
final class InteropSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func notify() {
        let ready = self.state.withLock { state in
            state.generation += 1
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in ready {
            waiter.resume()
        }
    }

    /// Returns once `condition` holds, re-checking it after every change; fails when `timeout` passes first, and
    /// with `CancellationError` soon after the task is cancelled.
    func waitUntil(
        _ what: @autoclosure () -> String,
        timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        // Bridge: a ticker wakes the waiters now and then so the deadline is noticed without a change.
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                self?.notify()
            }
        }
        defer { ticker.cancel() }
        while true {
            try Task.checkCancellation()
            let seen = self.state.withLock { $0.generation }
            if try await condition() { return }
            guard ContinuousClock.now < deadline else {
                throw IntegrationFailure(description: "timed out after \(timeout) waiting for \(what())")
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.generation != seen { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.notify()
            }
        }
    }
}

/// One line a child process printed on stdout, with the moment it arrived.
struct NodeLine: Sendable {
    /// The decoded object (numbers as `Double`, lists and objects nested); a line that is not a JSON object reads
    /// as `["event": "unparsed", "text": line]`.
    var object: [String: any Sendable]
    /// When the test read the line.
    var at: ContinuousClock.Instant
    /// The line as printed (without its newline).
    var text: String
    /// Whether the line was a JSON object.
    var isJSON: Bool

    /// The `event` field.
    var event: String { self.object["event"] as? String ?? "" }
}

/// A child process whose stdout is read as JSON lines: every line is kept with its arrival time, so tests can wait on
/// conditions over the whole history of one or many processes (through an ``InteropSignal``). The one process wrapper
/// of the integration tests: ``Subprocess``, ``PubsubProcess`` and ``NodeProcess`` are views of it.
///
/// The process never outlives its test: ``stop(grace:)`` sends SIGTERM and, if it is still running after the grace
/// period, SIGKILL; the wrapper's deinit kills a process that is still running.
///
/// `@unchecked Sendable`: the `Process` and the stdin handle are only used through thread-safe calls (`write`,
/// `terminate`, `isRunning`, `waitUntilExit`, `processIdentifier`); the output sits behind a `Mutex`.
final class JSONLinesProcess: @unchecked Sendable {
    /// What the process printed so far; shared with the pipe handlers (which must not keep the wrapper alive).
    private final class Output: Sendable {
        struct State {
            var lines: [NodeLine] = []
            var pending = Data()
            var ended = false
            var stderr = ""
        }

        let state = Mutex(State())
        let signal: InteropSignal

        init(signal: InteropSignal) {
            self.signal = signal
        }
    }

    /// The name used in failure messages.
    let name: String
    /// The arguments the process was started with.
    let arguments: [String]
    /// When the process was started.
    let started: ContinuousClock.Instant
    /// Notified after every line and at the end of stdout.
    var signal: InteropSignal { self.output.signal }
    private let process: Process
    private let input: FileHandle?
    private let output: Output

    /// Starts `executable`; with `acceptsInput` its stdin is a pipe for ``send(line:)``, else `/dev/null`.
    init(
        name: String,
        executable: URL,
        arguments: [String],
        signal: InteropSignal = InteropSignal(),
        acceptsInput: Bool = false
    ) throws {
        self.name = name
        self.arguments = arguments
        let output = Output(signal: signal)
        self.output = output
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        if acceptsInput {
            let stdin = Pipe()
            process.standardInput = stdin
            self.input = stdin.fileHandleForWriting
        } else {
            process.standardInput = FileHandle.nullDevice
            self.input = nil
        }
        self.process = process
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                output.state.withLock { $0.ended = true }
                output.signal.notify()
                return
            }
            let now = ContinuousClock.now
            output.state.withLock { state in
                state.pending.append(chunk)
                while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = state.pending[state.pending.startIndex..<newline]
                    state.pending = Data(state.pending[state.pending.index(after: newline)...])
                    state.lines.append(Self.decode(line, at: now))
                }
            }
            output.signal.notify()
        }
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            output.state.withLock { state in
                if state.stderr.utf8.count < 64 * 1024 {
                    state.stderr += String(decoding: chunk, as: UTF8.self)
                }
            }
        }
        self.started = ContinuousClock.now
        try process.run()
    }

    private static func decode(_ line: Data, at instant: ContinuousClock.Instant) -> NodeLine {
        let text = String(decoding: line, as: UTF8.self)
        if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
            return NodeLine(object: object.mapValues(Self.sendable), at: instant, text: text, isJSON: true)
        }
        return NodeLine(object: ["event": "unparsed", "text": text], at: instant, text: text, isJSON: false)
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.doubleValue
        case let list as [Any]: return list.map { sendable($0) }
        case let object as [String: Any]: return object.mapValues { sendable($0) }
        case is NSNull: return String?.none as any Sendable
        default: return "\(value)"
        }
    }

    /// Every line so far (JSON or not).
    var lines: [NodeLine] { self.output.state.withLock { $0.lines } }
    /// Whether the process closed its stdout (it ended, or is about to).
    var ended: Bool { self.output.state.withLock { $0.ended } }
    /// Whatever the process wrote to stderr so far (capped at 64 KiB).
    var stderr: String { self.output.state.withLock { $0.stderr } }
    /// Whether the process is still running.
    var isRunning: Bool { self.process.isRunning }
    /// The process ID.
    var pid: Int32 { self.process.processIdentifier }

    /// Waits until the process printed a line at index `start` or later that passes `filter`, and returns the
    /// line and its index; fails if the process ends first, after `timeout`, or when the task is cancelled.
    func firstLine(
        describedAs what: String,
        from start: Int = 0,
        timeout: Duration,
        where filter: (NodeLine) -> Bool
    ) async throws -> (line: NodeLine, index: Int) {
        var found: (NodeLine, Int)?
        try await self.signal.waitUntil("\(self.name): \(what)", timeout: timeout) {
            let (lines, ended) = self.output.state.withLock { ($0.lines, $0.ended) }
            if start < lines.count, let index = lines[start...].firstIndex(where: filter) {
                found = (lines[index], index)
                return true
            }
            if ended {
                let seen = lines.dropFirst(start).map(\.event)
                throw IntegrationFailure(
                    description: """
                        \(self.name) ended without \(what) (saw \(seen.suffix(40))); \
                        stderr: \(self.stderr.suffix(2000))
                        """
                )
            }
            return false
        }
        guard let found else { throw IntegrationFailure(description: "\(self.name): lost \(what)") }
        return found
    }

    /// Writes one line to the process's stdin (started with `acceptsInput`; otherwise nothing happens).
    func send(line: String) {
        try? self.input?.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Closes stdin, sends SIGTERM, and SIGKILL if the process is still running after `grace`; waits for the exit
    /// and returns the status.
    @discardableResult
    func stop(grace: Duration = .seconds(10)) -> Int32 {
        try? self.input?.close()
        if self.process.isRunning {
            self.process.terminate()
            let deadline = ContinuousClock.now + grace
            while self.process.isRunning, ContinuousClock.now < deadline {
                usleep(10_000)
            }
            if self.process.isRunning {
                Glibc.kill(self.process.processIdentifier, SIGKILL)
            }
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    /// Sends `signal` (SIGKILL: no clean shutdown) and waits for the exit.
    func kill(_ signal: Int32 = SIGKILL) {
        if self.process.isRunning {
            Glibc.kill(self.process.processIdentifier, signal)
        }
        self.process.waitUntilExit()
    }

    /// Waits for the process to exit by itself and returns the status (blocking).
    func waitForExit() -> Int32 {
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning {
            Glibc.kill(self.process.processIdentifier, SIGKILL)
        }
    }
}

/// A child process whose stdout is read as JSON lines, one at a time. The process is killed when ``stop()`` is called
/// (or when the wrapper goes away).
final class Subprocess: Sendable {
    private let process: JSONLinesProcess
    /// The index of the first line ``nextLine(describedAs:where:)`` has not looked at yet.
    private let cursor = Mutex(0)

    init(executable: URL, arguments: [String]) throws {
        self.process = try JSONLinesProcess(
            name: executable.lastPathComponent,
            executable: executable,
            arguments: arguments
        )
    }

    /// The next line whose `event` is `name` and that passes `filter`; earlier lines are skipped.
    func next(
        _ name: String,
        timeout: Duration = .seconds(600),
        where filter: ([String: any Sendable]) -> Bool = { _ in true }
    ) async throws -> [String: any Sendable] {
        try await self.nextLine(describedAs: "a \(name) event", timeout: timeout) { line in
            line["event"] as? String == name && filter(line)
        }
    }

    /// The next decoded line that passes `filter`; earlier lines are skipped. Fails when the process ends first,
    /// after `timeout` (long by default: the caller's test time limit is the real bound), or on cancellation.
    func nextLine(
        describedAs what: String,
        timeout: Duration = .seconds(600),
        where filter: ([String: any Sendable]) -> Bool
    ) async throws -> [String: any Sendable] {
        let start = self.cursor.withLock { $0 }
        let (line, index) = try await self.process.firstLine(describedAs: what, from: start, timeout: timeout) {
            filter($0.object)
        }
        self.cursor.withLock { $0 = index + 1 }
        return line.object
    }

    /// Whatever the process wrote to stderr so far (capped).
    var stderr: String { self.process.stderr }

    /// Sends SIGTERM (SIGKILL after 10 s) and waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        self.process.stop()
    }

    /// Waits for the process to exit by itself.
    func waitForExit() -> Int32 {
        self.process.waitForExit()
    }
}

/// Locations of the things the integration tests run.
enum IntegrationPaths {
    /// The interop virtualenv's python: `PHANTOM_TRAIL_INTEROP_PYTHON`, else `.venv-interop/bin/python` in the
    /// package root. Missing is a test failure with instructions, never a skip.
    static func interopPython() throws -> URL {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["PHANTOM_TRAIL_INTEROP_PYTHON"], !path.isEmpty {
            guard fileManager.isExecutableFile(atPath: path) else {
                throw IntegrationFailure(description: "PHANTOM_TRAIL_INTEROP_PYTHON=\(path) is not an executable")
            }
            return URL(fileURLWithPath: path)
        }
        let fallback = Self.packageRoot.appendingPathComponent(".venv-interop/bin/python")
        guard fileManager.isExecutableFile(atPath: fallback.path) else {
            throw IntegrationFailure(
                description: """
                    interop python missing: set PHANTOM_TRAIL_INTEROP_PYTHON or run scripts/test, which creates \
                    .venv-interop with libp2p==0.8.1 (python3 -m venv .venv-interop && \
                    .venv-interop/bin/pip install libp2p==0.8.1)
                    """
            )
        }
        return fallback
    }

    /// The interop peer script, from the test bundle's resources.
    static func interopScript() throws -> URL {
        guard let url = Bundle.module.url(forResource: "interop_peer", withExtension: "py", subdirectory: "Interop")
        else {
            throw IntegrationFailure(description: "Interop/interop_peer.py is missing from the test resources")
        }
        return url
    }

    /// The `phantom-trail` binary next to the test bundle (built by `swift build --build-tests`).
    static func cliBinary() throws -> URL {
        let candidates = [
            Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("phantom-trail"),
            Self.packageRoot.appendingPathComponent(".build/debug/phantom-trail"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw IntegrationFailure(
                description: "phantom-trail binary not found (looked in \(candidates.map(\.path))); run swift build"
            )
        }
        return found
    }

    private static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}

/// Runs `body`, then `stop` on each of `items`, also when `body` throws or the task is cancelled.
@discardableResult
func withStopping<T, Item>(
    _ items: [Item],
    stop: (Item) async -> Void,
    _ body: () async throws -> T
) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        for item in items {
            await stop(item)
        }
        throw error
    }
    for item in items {
        await stop(item)
    }
    return result
}
