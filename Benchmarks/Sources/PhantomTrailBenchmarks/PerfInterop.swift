import Foundation
import P2PCore
import P2PHost

// `PhantomTrailBenchmarks perf-interop`: /perf/1.0.0 between our host and py-libp2p 0.8.1 in both directions, next to
// ours-vs-ours with the same sizes. The py peer is Tests/IntegrationTests/Interop/interop_peer.py run with the
// interop venv's python (PHANTOM_TRAIL_INTEROP_PYTHON, else .venv-interop/bin/python in the package root).

/// The package root (this file is Benchmarks/Sources/PhantomTrailBenchmarks/PerfInterop.swift).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The interop python, or `nil` with the reason.
private func interopPython() -> (URL?, String) {
    if let path = ProcessInfo.processInfo.environment["PHANTOM_TRAIL_INTEROP_PYTHON"], !path.isEmpty {
        return FileManager.default.isExecutableFile(atPath: path)
            ? (URL(fileURLWithPath: path), path) : (nil, "PHANTOM_TRAIL_INTEROP_PYTHON=\(path) is not an executable")
    }
    let fallback = packageRoot.appendingPathComponent(".venv-interop/bin/python")
    return FileManager.default.isExecutableFile(atPath: fallback.path)
        ? (fallback, fallback.path)
        : (
            nil,
            "no py-libp2p venv at \(fallback.path) (python3 -m venv .venv-interop && "
                + ".venv-interop/bin/pip install libp2p==0.8.1, or set PHANTOM_TRAIL_INTEROP_PYTHON)"
        )
}

/// A running py peer whose stdout is JSON lines.
private final class PythonPeer {
    let process = Process()
    private let output = Pipe()
    private var pending = Data()

    init(python: URL, arguments: [String]) throws {
        let script = packageRoot.appendingPathComponent("Tests/IntegrationTests/Interop/interop_peer.py")
        self.process.executableURL = python
        self.process.arguments = [script.path] + arguments
        self.process.standardOutput = self.output
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
    }

    /// The next JSON line whose event is `name` (blocking; earlier lines are skipped); `nil` when the output ends.
    func next(_ name: String) -> [String: Any]? {
        while true {
            while let newline = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = self.pending[self.pending.startIndex..<newline]
                self.pending.removeSubrange(self.pending.startIndex...newline)
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                    object["event"] as? String == name
                {
                    return object
                }
            }
            let chunk = self.output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            self.pending.append(chunk)
        }
    }

    func stop() {
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
    }
}

/// One perf figure: bytes each way and the seconds of the whole run.
private struct PerfFigure {
    var upload: UInt64
    var download: UInt64
    var seconds: Double
    var rate: Double { Double(self.upload + self.download) / self.seconds }
}

/// Runs /perf/1.0.0 ours→ours, ours→py and py→ours with `bytes` each way and prints them side by side.
func benchmarkPerfInterop(bytes: UInt64 = 16 << 20) async throws {
    let (found, where_) = interopPython()
    guard let python = found else {
        print("perf-interop: skipped: \(where_)")
        return
    }
    let server = try await makeListener()
    let address = server.listenAddresses[0]
    let client = try LibP2PHost(identity: PrivateKey())
    try await client.start()

    // Ours -> ours.
    let ourPeer = try await client.dial(address)
    _ = try await client.perf(to: ourPeer, uploadBytes: 1 << 20, downloadBytes: 1 << 20)
    let ours = try await client.perf(to: ourPeer, uploadBytes: bytes, downloadBytes: bytes)
    let oursFigure = PerfFigure(
        upload: ours.uploadedBytes,
        download: ours.downloadedBytes,
        seconds: seconds(ours.totalDuration)
    )

    // Ours -> py: py listens and serves perf.
    let pyServer = try PythonPeer(python: python, arguments: ["--duration", "300"])
    defer { pyServer.stop() }
    guard let listening = pyServer.next("listening"), let text = (listening["addrs"] as? [String])?.first else {
        print("perf-interop: the py peer did not start")
        return
    }
    let pyAddress = try Multiaddr(parsing: text)
    let pyPeer = try await client.dial(pyAddress)
    let toPy = try await client.perf(to: pyPeer, uploadBytes: bytes, downloadBytes: bytes)
    let toPyFigure = PerfFigure(
        upload: toPy.uploadedBytes,
        download: toPy.downloadedBytes,
        seconds: seconds(toPy.totalDuration)
    )

    // Py -> ours: py dials our server and runs the perf client; then py -> py, for py-libp2p's own figure.
    guard let fromPyFigure = try pythonPerf(python: python, dialing: address.description, bytes: bytes),
        let pyToPyFigure = try pythonPerf(python: python, dialing: text, bytes: bytes)
    else {
        print("perf-interop: a py perf client reported no result")
        return
    }

    // Connection setup one at a time (connect, full upgrade, identify where the host runs it, disconnect).
    let oursToOurs = try await connectRepeatedly(from: client, to: address, count: 500)
    let oursToPy = try await connectRepeatedly(from: client, to: pyAddress, count: pythonConnections)
    let pyToOurs = try pythonConnectRepeatedly(python: python, to: address.description)
    let pyToPyConnections = try pythonConnectRepeatedly(python: python, to: text)

    print("perf-interop: /perf/1.0.0 over loopback TCP+Noise+Yamux, \(bytes >> 20) MiB up + \(bytes >> 20) MiB down:")
    for (name, figure) in [
        ("ours -> ours          ", oursFigure), ("ours -> py-libp2p     ", toPyFigure),
        ("py-libp2p -> ours     ", fromPyFigure), ("py-libp2p -> py-libp2p", pyToPyFigure),
    ] {
        print(
            "   \(name) \(figure.upload) B up, \(figure.download) B down in \(format(figure.seconds, 3)) s = "
                + "\(format(figure.rate / 1e6, 1)) MB/s"
        )
    }
    print("perf-interop: connections one at a time (connect, upgrade, disconnect; identify as each host does it):")
    for (name, rate) in [
        ("ours -> ours          ", oursToOurs), ("ours -> py-libp2p     ", oursToPy),
        ("py-libp2p -> ours     ", pyToOurs), ("py-libp2p -> py-libp2p", pyToPyConnections),
    ] {
        print("   \(name) \(format(rate, 1)) connections/s")
    }
    printJSON(
        "perf-interop",
        [
            "bytesEachWay": Double(bytes), "oursToOursBytesPerSecond": oursFigure.rate,
            "oursToPyBytesPerSecond": toPyFigure.rate, "pyToOursBytesPerSecond": fromPyFigure.rate,
            "oursToPySeconds": toPyFigure.seconds, "pyToOursSeconds": fromPyFigure.seconds,
            "pyToPyBytesPerSecond": pyToPyFigure.rate, "oursToOursConnectionsPerSecond": oursToOurs,
            "oursToPyConnectionsPerSecond": oursToPy, "pyToOursConnectionsPerSecond": pyToOurs,
            "pyToPyConnectionsPerSecond": pyToPyConnections,
        ]
    )
    await client.shutdown()
    await server.shutdown()
}

/// How many connections the py-libp2p runs make (py-libp2p takes a few hundred milliseconds for each).
private let pythonConnections = 40

/// Connects `host` to `address` (no /p2p/, so each is a new connection) and disconnects, `count` times in a row;
/// returns connections per second.
private func connectRepeatedly(from host: LibP2PHost, to address: Multiaddr, count: Int) async throws -> Double {
    let target = address.removingPeerID()
    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        for _ in 0..<count {
            let peer = try await host.dial(target)
            host.disconnect(from: peer)
        }
    }
    return Double(count) / seconds(elapsed)
}

/// Runs a py-libp2p dialer that connects to `address` and disconnects ``pythonConnections`` times in a row; returns
/// its connections per second (0 when it reports nothing).
private func pythonConnectRepeatedly(python: URL, to address: String) throws -> Double {
    let dialer = try PythonPeer(
        python: python,
        arguments: ["--dial", address, "--connect-count", "\(pythonConnections)", "--duration", "300"]
    )
    defer { dialer.stop() }
    guard let result = dialer.next("connections"), let count = result["count"] as? Int,
        let seconds = result["seconds"] as? Double, seconds > 0
    else { return 0 }
    return Double(count) / seconds
}

/// Runs a py-libp2p perf client against `address` with `bytes` each way; `nil` when it reports no result.
private func pythonPerf(python: URL, dialing address: String, bytes: UInt64) throws -> PerfFigure? {
    let client = try PythonPeer(
        python: python,
        arguments: [
            "--dial", address, "--ping-count", "0", "--perf-upload", "\(bytes)", "--perf-download", "\(bytes)",
            "--duration", "300",
        ]
    )
    defer { client.stop() }
    guard let perf = client.next("perf"), let seconds = perf["seconds"] as? Double,
        let upload = perf["upload_bytes"] as? Int, let download = perf["download_bytes"] as? Int
    else { return nil }
    return PerfFigure(upload: UInt64(upload), download: UInt64(download), seconds: seconds)
}
