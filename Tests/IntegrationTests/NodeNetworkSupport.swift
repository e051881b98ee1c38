import Foundation
import NodeRuntime
import P2PCore
import PrivacyCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `phantom-trail node` process (or any JSON-lines child) whose every stdout line is kept with its arrival time, so
/// a test can wait on conditions over the whole history of many processes at once (through an ``InteropSignal``).
/// A view of ``JSONLinesProcess`` that shows the JSON lines only.
final class NodeProcess: Sendable {
    private let process: JSONLinesProcess
    /// The name used in failure messages.
    var name: String { self.process.name }
    /// The arguments the process was started with.
    var arguments: [String] { self.process.arguments }
    /// When the process was started.
    var started: ContinuousClock.Instant { self.process.started }

    init(name: String, executable: URL, arguments: [String], signal: InteropSignal) throws {
        self.process = try JSONLinesProcess(name: name, executable: executable, arguments: arguments, signal: signal)
    }

    /// Every JSON line so far.
    var lines: [NodeLine] { self.process.lines.filter(\.isJSON) }
    /// Every line so far whose event is `name`.
    func events(_ name: String) -> [NodeLine] { self.lines.filter { $0.event == name } }
    var ended: Bool { self.process.ended }
    var stderr: String { self.process.stderr }
    var isRunning: Bool { self.process.isRunning }
    var pid: Int32 { self.process.pid }

    /// Waits for the first `name` line that passes `filter`; fails early if the process ends without it.
    @discardableResult
    func first(
        _ name: String,
        timeout: Duration = .seconds(60),
        where filter: (NodeLine) -> Bool = { _ in true }
    ) async throws -> NodeLine {
        try await self.process.firstLine(describedAs: name, timeout: timeout) { line in
            line.isJSON && line.event == name && filter(line)
        }.line
    }

    /// The peer ID and first address of the `listening` line.
    func listening() async throws -> (peer: String, address: String) {
        let line = try await self.first("listening")
        guard let peer = line.object["peer_id"] as? String,
            let address = (line.object["addrs"] as? [any Sendable])?.first as? String
        else {
            throw IntegrationFailure(description: "\(self.name) printed a listening line without peer_id/addrs")
        }
        return (peer, address)
    }

    /// Peers connected now, from the peer_connected / peer_disconnected lines.
    var connectedPeers: Set<String> {
        var peers: Set<String> = []
        for line in self.lines {
            guard let peer = line.object["peer_id"] as? String else { continue }
            switch line.event {
            case "peer_connected": peers.insert(peer)
            case "peer_disconnected": peers.remove(peer)
            default: continue
            }
        }
        return peers
    }

    /// CPU seconds (user + system) the process has used so far, from /proc; nil once it is gone.
    var cpuSeconds: Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime field 14, stime field 15 (1-based, man proc).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Kills the process with `signal` (SIGKILL: no clean shutdown) and waits for it.
    func kill(_ signal: Int32 = SIGKILL) {
        self.process.kill(signal)
    }

    /// SIGTERM (SIGKILL after 10 s), then waits; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        self.process.stop()
    }
}

/// What the test needs of a `stats` line.
struct StatsLine {
    /// Score reports this epoch (one per user).
    var users: Int
    /// The average score's estimate, when shown.
    var average: (value: Double, lower: Double, upper: Double)?
    /// Region-grade reports this epoch (summed over regions, shown or not).
    var regionReports: Int
    /// The epoch the statistics belong to (of `lastUpdated`).
    var epoch: UInt32?

    init?(_ line: NodeLine, schedule: EpochSchedule) {
        guard line.event == "stats", let stats = line.object["stats"] as? [String: any Sendable],
            let users = stats["connectedPeers"] as? Double
        else { return nil }
        self.users = Int(users)
        if let average = stats["averageScore"] as? [String: any Sendable], average["status"] as? String == "shown",
            let value = average["value"] as? [String: any Sendable], let point = value["value"] as? Double,
            let lower = value["lower"] as? Double, let upper = value["upper"] as? Double
        {
            self.average = (point, lower, upper)
        }
        var regionReports = 0
        for entry in stats["regionalData"] as? [any Sendable] ?? [] {
            guard let entry = entry as? [String: any Sendable], let inner = entry["stats"] as? [String: any Sendable]
            else { continue }
            if let have = inner["have"] as? Double {
                regionReports += Int(have)
            } else if let value = inner["value"] as? [String: any Sendable], let reports = value["reports"] as? Double {
                regionReports += Int(reports)
            }
        }
        self.regionReports = regionReports
        if let text = stats["lastUpdated"] as? String, let date = ISO8601DateFormatter().date(from: text) {
            self.epoch = try? schedule.epoch(containing: date)
        }
    }
}

/// Envelopes of a demo network, built by the test as a real node would (proof of work included).
enum TestEnvelopes {
    /// The parameters `phantom-trail node --epoch-length <seconds>s --pow-difficulty <bits>` runs with.
    static func demoParameters(epochSeconds: Int64, difficulty: Int) throws -> NetworkParameters {
        try NetworkParameters(
            label: "demo",
            epochLengthSeconds: epochSeconds,
            difficultyBits: difficulty,
            scryptCostLog2: NetworkParameters.demo.scryptCostLog2
        )
    }

    /// A minted envelope of `report` for `epoch`.
    static func minted(
        _ report: WireReport,
        epoch: UInt32,
        parameters: NetworkParameters,
        using generator: inout some RandomNumberGenerator
    ) throws -> [UInt8] {
        try ProofOfWork.mint(ReportEnvelope(epoch: epoch, report: report), parameters: parameters, using: &generator)
            .encode()
    }

    /// The same envelope with a nonce whose work falls short of the difficulty.
    static func withBadWork(_ bytes: [UInt8], parameters: NetworkParameters) throws -> [UInt8] {
        var envelope = try ReportEnvelope(decoding: bytes)
        for _ in 0..<1_000 {
            envelope.nonce &+= 1
            if !ProofOfWork.verify(envelope, parameters: parameters) {
                return envelope.encode()
            }
        }
        throw IntegrationFailure(description: "no failing nonce found in 1,000 tries")
    }

    /// The current epoch and the seconds left in it.
    static func now(_ schedule: EpochSchedule) throws -> (epoch: UInt32, secondsLeft: Double) {
        let now = Date()
        let epoch = try schedule.epoch(containing: now)
        return (epoch, schedule.start(of: epoch + 1).timeIntervalSince(now))
    }
}

extension Duration {
    /// Seconds as a `Double`.
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex.
    var hex: String { self.map { String(format: "%02x", $0) }.joined() }

    /// Bytes of a hex string (nil if it is not one).
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
            index += 2
        }
        self = bytes
    }
}

/// The privacy-design.md storage check after a busy run: no envelope (raw, hex, base64), peer id (text or bytes)
/// or address may be found in any node's data directory.
enum DataDirectoryCheck {
    /// Scans every directory in `directories` for `envelopes`, `peers` and `addresses`; returns the findings
    /// (empty when clean) and the bytes scanned.
    static func findings(
        in directories: [String],
        envelopes: [[UInt8]],
        peers: [String],
        addresses: [String]
    ) throws -> (findings: [String], scannedFiles: Int, scannedBytes: Int) {
        var patterns = DataDirectoryAudit.envelopePatterns(Array(Set(envelopes)))
        for peer in Set(peers) {
            patterns.append(.text(peer, name: "peer id \(peer)"))
            if let id = PeerID(peer) {
                patterns.append(DataDirectoryAudit.Pattern(name: "peer id \(peer) (bytes)", bytes: id.bytes))
            }
        }
        for address in Set(addresses) {
            patterns.append(.text(address, name: "address \(address)"))
            // The address without its /p2p part, and its port.
            if let range = address.range(of: "/p2p/") {
                patterns.append(.text(String(address[..<range.lowerBound]), name: "address \(address) (no /p2p)"))
            }
        }
        patterns.append(.text("127.0.0.1", name: "loopback address"))
        let audit = DataDirectoryAudit(patterns: patterns)
        var findings: [String] = []
        var files = 0
        var bytes = 0
        for directory in directories {
            let result = try audit.scan(directory)
            findings += result.findings.map { "\(directory): \($0)" }
            files += result.scannedFiles.count
            bytes += result.scannedBytes
        }
        return (findings, files, bytes)
    }
}
