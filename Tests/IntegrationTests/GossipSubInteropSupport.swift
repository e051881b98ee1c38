import Foundation
import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import Synchronization

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

    /// Returns once `condition` holds, re-checking it after every change; fails when `deadline` passes.
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
            let seen = self.state.withLock { $0.generation }
            if try await condition() { return }
            guard ContinuousClock.now < deadline else {
                throw IntegrationFailure(description: "timed out waiting for \(what())")
            }
            await withCheckedContinuation { continuation in
                let ready = self.state.withLock { state -> Bool in
                    if state.generation != seen { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}

/// A child process that prints JSON lines and reads lines from its stdin (the pubsub peers: the py-libp2p script
/// and `phantom-trail p2p pubsub`).
///
/// `@unchecked Sendable`: the `Process` and the stdin handle are only used through thread-safe calls
/// (`write`, `terminate`, `waitUntilExit`); the printed lines sit behind `output` (a `Mutex`).
final class PubsubProcess: @unchecked Sendable {
    private let process: Process
    private let input: FileHandle
    private let output = Mutex<(lines: [String], ended: Bool, stderr: String)>(([], false, ""))
    private let signal: InteropSignal
    let name: String

    init(name: String, executable: URL, arguments: [String], signal: InteropSignal) throws {
        self.name = name
        self.signal = signal
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        self.process = process
        self.input = stdin.fileHandleForWriting
        let pending = Mutex(Data())
        stdout.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self else { return }
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                self.output.withLock { $0.ended = true }
                signal.notify()
                return
            }
            let lines: [String] = pending.withLock { buffer in
                buffer.append(chunk)
                var out: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    out.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer = Data(buffer[buffer.index(after: newline)...])
                }
                return out
            }
            self.output.withLock { $0.lines += lines }
            signal.notify()
        }
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self.output.withLock { state in
                if state.stderr.utf8.count < 32 * 1024 {
                    state.stderr += String(decoding: chunk, as: UTF8.self)
                }
            }
        }
        try process.run()
    }

    /// Every JSON line printed so far whose `event` is `name`.
    func events(_ name: String) -> [[String: Any]] {
        let lines = self.output.withLock { $0.lines }
        return lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] as? String == name
            else { return nil }
            return object
        }
    }

    var ended: Bool { self.output.withLock { $0.ended } }
    var stderr: String { self.output.withLock { $0.stderr } }

    /// Waits for the first `name` event that passes `filter`.
    func first(
        _ name: String,
        timeout: Duration = .seconds(60),
        where filter: ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any] {
        var found: [String: Any]?
        try await self.signal.waitUntil("\(self.name): \(name)", timeout: timeout) {
            found = self.events(name).first(where: filter)
            if found == nil, self.ended {
                throw IntegrationFailure(
                    description: "\(self.name) exited without \(name); stderr: \(self.stderr.suffix(1500))"
                )
            }
            return found != nil
        }
        return found ?? [:]
    }

    /// Writes one line to the process's stdin.
    func send(line: String) {
        self.input.write(Data((line + "\n").utf8))
    }

    /// Closes stdin, sends SIGTERM and waits for the exit.
    func stop() {
        try? self.input.close()
        if self.process.isRunning {
            self.process.terminate()
        }
        self.process.waitUntilExit()
    }

    deinit {
        if self.process.isRunning {
            self.process.terminate()
        }
    }
}

/// A running Swift GossipSub node on loopback (production clock: 1 s heartbeats) and what it received.
///
/// `@unchecked Sendable`: `tasks` is set once in ``start(topic:noSign:signal:)`` before the node is shared; the
/// messages sit behind a `Mutex`.
final class SwiftPubsubNode: @unchecked Sendable {
    let host: LibP2PHost
    let service: GossipSubService
    var tasks: [Task<Void, Never>] = []
    private let messages = Mutex<[GossipSubReceivedMessage]>([])

    init(host: LibP2PHost, service: GossipSubService) {
        self.host = host
        self.service = service
    }

    static func start(topic: String, noSign: Bool = false, signal: InteropSignal) async throws -> SwiftPubsubNode {
        let key = PrivateKey()
        let host = try LibP2PHost(
            identity: key,
            configuration: HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
        )
        try await host.start()
        var configuration = GossipSubServiceConfiguration()
        if noSign {
            configuration.router.topics[topic] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        }
        let service = try GossipSubService(host: host, identity: key, configuration: configuration)
        let box = SwiftPubsubNode(host: host, service: service)
        let subscription = await service.subscribe(topic)
        // Test bridges, cancelled and awaited by `stop()`.
        box.tasks = [
            Task { try? await service.run() },
            Task {
                for await _ in service.events {
                    signal.notify()
                }
            },
            Task {
                for await message in subscription {
                    box.append(message)
                    signal.notify()
                }
            },
        ]
        return box
    }

    var peer: PeerID { self.host.peerID }
    var received: [GossipSubReceivedMessage] { self.messages.withLock { $0 } }

    func append(_ message: GossipSubReceivedMessage) {
        self.messages.withLock { $0.append(message) }
    }

    func stop() async {
        for task in self.tasks {
            task.cancel()
        }
        await self.host.shutdown()
        for task in self.tasks {
            await task.value
        }
    }
}
