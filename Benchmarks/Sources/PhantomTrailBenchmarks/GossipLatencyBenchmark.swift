import Foundation
import Synchronization

// `PhantomTrailBenchmarks gossip-latency [--binary <phantom-trail>] [--nodes 20] [--messages 50]`: starts that many
// `phantom-trail p2p pubsub --json --publish-stdin` processes on loopback, connects each to up to three earlier ones,
// waits for the meshes, then publishes messages one at a time from random processes and measures, from the write
// to the publisher's stdin until the last other process printed the message, the publish-to-all-delivered latency.

/// One `phantom-trail p2p pubsub` process; its stdout lines are timestamped as they arrive.
private final class PubsubChild: Sendable {
    struct Line {
        var at: ContinuousClock.Instant
        var object: [String: String]
    }

    let process: Process
    let input: FileHandle
    private let lines = Mutex<[(ContinuousClock.Instant, String)]>([])

    init(binary: String, arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        self.process = process
        self.input = stdin.fileHandleForWriting
        let pending = Mutex(Data())
        stdout.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            let now = ContinuousClock.now
            guard !chunk.isEmpty, let self else {
                handle.readabilityHandler = nil
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(chunk)
                var out: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    out.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer = Data(buffer[buffer.index(after: newline)...])
                }
                return out
            }
            self.lines.withLock { $0 += complete.map { (now, $0) } }
        }
        try process.run()
    }

    /// The lines printed so far whose `event` is `name`, decoded (string fields only).
    func events(_ name: String) -> [Line] {
        self.lines.withLock { $0 }.compactMap { at, text in
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                object["event"] as? String == name
            else { return nil }
            return Line(at: at, object: object.compactMapValues { $0 as? String ?? ($0 as? [String])?.first })
        }
    }

    func send(_ line: String) {
        self.input.write(Data((line + "\n").utf8))
    }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
        }
        self.process.waitUntilExit()
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
private func waitFor(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            throw BenchmarkFailure(description: "timed out waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

private struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

/// The value after `flag` in `arguments`.
private func option(_ flag: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// Runs the gossip-latency benchmark.
func benchmarkGossipLatency(arguments: [String]) async throws {
    let binary =
        option("--binary", in: arguments)
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../.build/release/phantom-trail"
        ).standardizedFileURL.path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw BenchmarkFailure(description: "\(binary) is not executable: build it or pass --binary")
    }
    let nodes = Int(option("--nodes", in: arguments) ?? "") ?? 20
    let messages = Int(option("--messages", in: arguments) ?? "") ?? 50
    var generator = SystemRandomNumberGenerator()
    var children: [PubsubChild] = []
    var peers: [String] = []
    defer {
        for child in children {
            child.stop()
        }
    }
    var neighbours = [Set<String>](repeating: [], count: nodes)
    for index in 0..<nodes {
        var dials: [Int] = []
        if index > 0 {
            dials = Array(Set((0..<3).map { _ in Int.random(in: 0..<index, using: &generator) } + [index - 1]))
        }
        let arguments =
            ["p2p", "pubsub", "--topic", "bench", "--json", "--publish-stdin"]
            + dials.flatMap { ["--dial", children[$0].events("listening").first?.object["addrs"] ?? ""] }
        let child = try PubsubChild(binary: binary, arguments: arguments)
        children.append(child)
        try await waitFor("process \(index) listening", timeout: .seconds(30)) { !child.events("listening").isEmpty }
        let peer = child.events("listening")[0].object["peer_id"] ?? ""
        peers.append(peer)
        for other in dials {
            neighbours[index].insert(peers[other])
            neighbours[other].insert(peer)
        }
    }
    try await waitFor("every neighbour subscribed", timeout: .seconds(60)) {
        zip(children, neighbours).allSatisfy { child, expected in
            Set(child.events("peer_subscribed").compactMap { $0.object["peer_id"] }).isSuperset(of: expected)
        }
    }
    // Three heartbeats (1 s each) for the meshes to settle.
    try await Task.sleep(for: .seconds(3))

    var latencies: [Double] = []
    for number in 0..<messages {
        let publisher = Int.random(in: 0..<nodes, using: &generator)
        let text = "bench-\(number)"
        let sent = ContinuousClock.now
        children[publisher].send(text)
        var arrivals: [ContinuousClock.Instant] = []
        try await waitFor("message \(number) everywhere", timeout: .seconds(30)) {
            arrivals = children.enumerated().compactMap { index, child in
                index == publisher ? sent : child.events("message").first { $0.object["data"] == text }?.at
            }
            return arrivals.count == nodes
        }
        latencies.append(milliseconds(arrivals.max()! - sent))
    }
    latencies.sort()
    let p50 = latencies[latencies.count / 2]
    let p99 = latencies[min(latencies.count - 1, Int((Double(latencies.count) * 0.99).rounded(.up)) - 1)]
    print(
        "gossip-latency: \(nodes) phantom-trail processes, \(messages) messages: publish-to-all-delivered "
            + "p50 \(format(p50, 2)) ms, p99 \(format(p99, 2)) ms, max \(format(latencies.last!, 2)) ms"
    )
    printJSON(
        "gossip-latency",
        ["nodes": Double(nodes), "messages": Double(messages), "p50Ms": p50, "p99Ms": p99, "maxMs": latencies.last!]
    )
}
