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

    // Py -> ours: py dials our server and runs the perf client.
    let pyClient = try PythonPeer(
        python: python,
        arguments: [
            "--dial", address.description, "--ping-count", "0", "--perf-upload", "\(bytes)", "--perf-download",
            "\(bytes)", "--duration", "300",
        ]
    )
    defer { pyClient.stop() }
    guard let perf = pyClient.next("perf"), let pySeconds = perf["seconds"] as? Double,
        let pyUp = perf["upload_bytes"] as? Int, let pyDown = perf["download_bytes"] as? Int
    else {
        print("perf-interop: the py perf client reported no result")
        return
    }
    let fromPyFigure = PerfFigure(upload: UInt64(pyUp), download: UInt64(pyDown), seconds: pySeconds)

    print("perf-interop: /perf/1.0.0 over loopback TCP+Noise+Yamux, \(bytes >> 20) MiB up + \(bytes >> 20) MiB down:")
    for (name, figure) in [
        ("ours -> ours          ", oursFigure), ("ours -> py-libp2p     ", toPyFigure),
        ("py-libp2p -> ours     ", fromPyFigure),
    ] {
        print(
            "   \(name) \(figure.upload) B up, \(figure.download) B down in \(format(figure.seconds, 3)) s = "
                + "\(format(figure.rate / 1e6, 1)) MB/s"
        )
    }
    printJSON(
        "perf-interop",
        [
            "bytesEachWay": Double(bytes), "oursToOursBytesPerSecond": oursFigure.rate,
            "oursToPyBytesPerSecond": toPyFigure.rate, "pyToOursBytesPerSecond": fromPyFigure.rate,
            "oursToPySeconds": toPyFigure.seconds, "pyToOursSeconds": fromPyFigure.seconds,
        ]
    )
    await client.shutdown()
    await server.shutdown()
}
