import Foundation
import Synchronization
import Testing

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

/// A child process whose stdout is read as JSON lines. The process is killed when ``stop()`` is called.
///
/// `@unchecked Sendable`: the `Process` is only touched through methods that are safe from any thread
/// (`terminate`, `isRunning`, `waitUntilExit`), and the stderr text sits behind `stderrText` (a `Mutex`).
final class Subprocess: @unchecked Sendable {
    /// Decoded stdout lines; ends when the process closes stdout.
    let lines: AsyncStream<[String: any Sendable]>
    private let process: Process
    private let stderrText = LockedValue("")
    private var iterator: AsyncStream<[String: any Sendable]>.AsyncIterator

    init(executable: URL, arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream<[String: any Sendable]>.makeStream()
        self.lines = lines
        self.iterator = lines.makeAsyncIterator()
        self.process = process
        let pending = LockedValue(Data())
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [Data] = pending.withLock { buffer in
                buffer.append(chunk)
                var out: [Data] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    out.append(buffer[buffer.startIndex..<newline])
                    buffer = Data(buffer[buffer.index(after: newline)...])
                }
                return out
            }
            for line in complete {
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
                    continuation.yield(object.mapValues { Self.sendable($0) })
                } else {
                    continuation.yield(["event": "unparsed", "text": String(decoding: line, as: UTF8.self)])
                }
            }
        }
        let stderrText = self.stderrText
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            stderrText.withLock { text in
                if text.utf8.count < 64 * 1024 {
                    text += String(decoding: chunk, as: UTF8.self)
                }
            }
        }
        try process.run()
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.doubleValue
        case let list as [Any]: return list.map { sendable($0) }
        case let object as [String: Any]: return object.mapValues { sendable($0) }
        default: return "\(value)"
        }
    }

    /// The next line whose `event` is `name` and that passes `filter`; earlier lines are skipped.
    func next(
        _ name: String,
        where filter: ([String: any Sendable]) -> Bool = { _ in true }
    ) async throws -> [String: any Sendable] {
        try await self.nextLine(describedAs: "a \(name) event") { line in
            line["event"] as? String == name && filter(line)
        }
    }

    /// The next decoded line that passes `filter`; earlier lines are skipped.
    func nextLine(
        describedAs what: String,
        where filter: ([String: any Sendable]) -> Bool
    ) async throws -> [String: any Sendable] {
        var seen: [String] = []
        while let line = await self.iterator.next() {
            if filter(line) {
                return line
            }
            seen.append(line["event"] as? String ?? "?")
        }
        throw IntegrationFailure(
            description: "the process ended without \(what) (saw \(seen)); stderr: \(self.stderr.suffix(2000))"
        )
    }

    /// Whatever the process wrote to stderr so far (capped).
    var stderr: String { self.stderrText.withLock { $0 } }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        if self.process.isRunning {
            self.process.terminate()
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    /// Waits for the process to exit by itself.
    func waitForExit() -> Int32 {
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning {
            self.process.terminate()
        }
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
