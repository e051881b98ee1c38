import Foundation
import PrivacyCore
import PrivacyNetwork
import TestSupport
import Testing

/// The report topic `/phantom-trail/reports/1` against an independent implementation: a py-libp2p 0.8.1 GossipSub
/// peer (`Interop/interop_reports.py`) and `phantom-trail node` processes on a 60 s demo network.
///
/// py-libp2p has no StrictNoSign mode, so the script adds what the topic needs (bare messages, message ID =
/// SHA-256 of the data, a message cache keyed by it, no equivocation check for author-less messages) and reports
/// every message's fields as decoded, without enforcing the policy itself.
@Suite("Report topic interop: py-libp2p and phantom-trail nodes", .tags(.integration), .serialized)
struct ReportTopicInteropTests {
    static let epochSeconds: Int64 = 60
    static let difficulty = 2

    static func pythonPeer(signal: InteropSignal) throws -> PubsubProcess {
        guard
            let script = Bundle.module.url(forResource: "interop_reports", withExtension: "py", subdirectory: "Interop")
        else {
            throw IntegrationFailure(description: "Interop/interop_reports.py is missing from the test resources")
        }
        return try PubsubProcess(
            name: "py",
            executable: IntegrationPaths.interopPython(),
            arguments: ["-u", script.path, "--duration", "280"],
            signal: signal
        )
    }

    static var demoFlags: [String] {
        [
            "node", "--epoch-length", "\(Self.epochSeconds)s", "--pow-difficulty", "\(Self.difficulty)", "--events",
            "jsonl", "--join", "--listen", "/ip4/127.0.0.1/tcp/0",
        ]
    }

    @Test(
        """
        py-libp2p publishes a valid envelope (accepted) and malformed ones (never accepted), and receives the \
        sharing nodes' envelopes: 512 bytes, no from/seqno/signature/key
        """,
        .timeLimit(.minutes(4))
    )
    func reportTopic() async throws {
        let parameters = try TestEnvelopes.demoParameters(epochSeconds: Self.epochSeconds, difficulty: Self.difficulty)
        let binary = try IntegrationPaths.cliBinary()
        let directory = try TemporaryDirectory(prefix: "report-interop")
        let signal = InteropSignal()
        let python = try Self.pythonPeer(signal: signal)
        defer { python.stop() }
        let (pythonPeer, pythonAddress) = try await GossipSubInteropTests.listening(python)

        // A node that only listens (no --share), so every report it accepts came from the py peer.
        let listener = try NodeProcess(
            name: "listener",
            executable: binary,
            arguments: Self.demoFlags + ["--bootstrap", pythonAddress, "--data-dir", directory.path("listener")],
            signal: signal
        )
        defer { listener.stop() }
        let (listenerPeer, listenerAddress) = try await listener.listening()
        try await listener.first("peer_connected") { $0.object["peer_id"] as? String == pythonPeer }
        _ = try await python.first("peer_subscribed") {
            $0["peer_id"] as? String == listenerPeer && $0["topic"] as? String == PrivacyNetworkProtocol.reportTopic
        }
        // py-libp2p publishes to its mesh only: wait until its heartbeat grafted the node.
        _ = try await python.first("mesh") { ($0["peers"] as? [String])?.contains(listenerPeer) == true }

        // (b) A valid envelope, built here with the network's parameters, epoch and proof of work, published by py.
        var generator = SystemRandomNumberGenerator()
        let epoch = try TestEnvelopes.now(parameters.schedule).epoch
        let valid = try TestEnvelopes.minted(.score(decile: 7), epoch: epoch, parameters: parameters, using: &generator)
        python.send(line: valid.hex)
        let accepted = try await listener.first("report_accepted")
        #expect(accepted.object["type"] as? String == "score")
        #expect((accepted.object["epoch"] as? Double).map { UInt32($0) } == epoch)

        // A second valid one (trackers) is accepted too.
        let marker = try TestEnvelopes.minted(
            .trackers(bucket: 4),
            epoch: epoch,
            parameters: parameters,
            using: &generator
        )
        python.send(line: marker.hex)
        try await listener.first("report_accepted") { $0.object["type"] as? String == "trackers" }

        // (c) Malformed envelopes, all of type risk: never accepted. Each is an offence of py's: GossipSub's score
        // (P4) graylists it after a few and our own penalties count them; the listener keeps running and keeps
        // admitting the sharing nodes' reports below.
        let risk = try TestEnvelopes.minted(.risk(bucket: 2), epoch: epoch, parameters: parameters, using: &generator)
        let otherNetwork = try NetworkParameters(
            label: "other",
            epochLengthSeconds: Self.epochSeconds,
            difficultyBits: Self.difficulty,
            scryptCostLog2: parameters.scryptCostLog2
        )
        let malformed: [(String, [UInt8])] = [
            ("511 bytes", Array(risk.prefix(511))),
            ("513 bytes", risk + [0]),
            ("a 1-byte message", [0x50]),
            ("bad proof of work", try TestEnvelopes.withBadWork(risk, parameters: parameters)),
            (
                "an epoch three epochs old",
                try TestEnvelopes.minted(.risk(bucket: 1), epoch: epoch - 3, parameters: parameters, using: &generator)
            ),
            (
                "an epoch in the future",
                try TestEnvelopes.minted(.risk(bucket: 1), epoch: epoch + 2, parameters: parameters, using: &generator)
            ),
            (
                "another network's proof of work",
                try TestEnvelopes.minted(.risk(bucket: 3), epoch: epoch, parameters: otherNetwork, using: &generator)
            ),
            ("a wrong magic", [UInt8](repeating: 0x41, count: 4) + risk.dropFirst(4)),
        ]
        for (_, bytes) in malformed {
            python.send(line: bytes.hex)
        }
        #expect(python.events("error").isEmpty, "\(python.events("error"))")
        #expect(listener.isRunning)

        // (a) Two sharing nodes: every report of theirs that reaches py is a bare 512-byte message.
        let report = try #require(SyntheticPopulation(count: 1, seed: 5).users.first).privacyReport
        let reportFile = directory.path("report.json")
        try report.jsonData().write(to: URL(fileURLWithPath: reportFile))
        let sharers = try (0..<2).map { index in
            try NodeProcess(
                name: "sharer\(index)",
                executable: binary,
                arguments: Self.demoFlags + [
                    "--share", "--report", reportFile, "--bootstrap", pythonAddress, "--bootstrap", listenerAddress,
                    "--data-dir", directory.path("sharer\(index)"),
                ],
                signal: signal
            )
        }
        defer {
            for sharer in sharers { sharer.stop() }
        }
        var sharerPeers: [String] = []
        var sharerAddresses: [String] = []
        for sharer in sharers {
            let (peer, address) = try await sharer.listening()
            sharerPeers.append(peer)
            sharerAddresses.append(address)
        }
        // Reports leave at random moments of the epoch (two per node): wait for two of them at py.
        try await signal.waitUntil("py receives two reports of the sharing nodes", timeout: .seconds(140)) {
            python.events("message").count >= 2
        }
        // The listener is still running and admitting: the sharing nodes' reports reach it too, and no malformed
        // envelope was ever accepted (every acceptance is py's two valid ones or a sharing node's report).
        try await signal.waitUntil("the listener keeps admitting reports", timeout: .seconds(90)) {
            listener.events("report_accepted").count >= 3
        }
        let messages = python.events("message")
        var received: [[UInt8]] = []
        for message in messages {
            #expect(message["topic"] as? String == PrivacyNetworkProtocol.reportTopic)
            #expect(message["size"] as? Int == ReportEnvelope.size)
            #expect(message["has_from"] as? Bool == false)
            #expect(message["has_seqno"] as? Bool == false)
            #expect(message["has_signature"] as? Bool == false)
            #expect(message["has_key"] as? Bool == false)
            let bytes = try #require((message["data_hex"] as? String).flatMap { [UInt8](hex: $0) })
            #expect(bytes.count == ReportEnvelope.size)
            let envelope = try ReportEnvelope(decoding: bytes)
            #expect(ProofOfWork.verify(envelope, parameters: parameters))
            #expect(envelope.epoch + 1 >= epoch)
            // The message ID is the content hash (StrictNoSign's id, as ReportID).
            #expect(message["msg_id"] as? String == ReportID(data: bytes).bytes.hex)
            received.append(bytes)
        }
        #expect(Set(received).count == received.count, "each report arrived once")
        #expect(python.events("message").allSatisfy { ($0["data_hex"] as? String) != valid.hex })
        let acceptedByListener = listener.events("report_accepted").count
        let sent = sharers.reduce(0) { $0 + $1.events("report_sent").count }
        #expect(sent >= received.count)
        #expect(acceptedByListener <= 2 + sent)
        print(
            "report interop: py received \(received.count) envelopes from 2 sharing nodes (\(sent) sent so far); "
                + "listener accepted \(listener.events("report_accepted").count)"
        )

        for node in sharers + [listener] {
            #expect(node.stop() == 0, "\(node.name) exits cleanly; stderr: \(node.stderr.suffix(500))")
        }

        // After the run no data directory holds an envelope sent or admitted (every one py saw or published), a
        // peer id or an address.
        let seen = python.events("message").compactMap { ($0["data_hex"] as? String).flatMap { [UInt8](hex: $0) } }
        let audit = try DataDirectoryCheck.findings(
            in: ["listener", "sharer0", "sharer1"].map { directory.path($0) },
            envelopes: seen + [valid, marker] + malformed.map(\.1).filter { $0.count == ReportEnvelope.size },
            peers: [pythonPeer, listenerPeer] + sharerPeers,
            addresses: [pythonAddress, listenerAddress] + sharerAddresses
        )
        #expect(audit.findings.isEmpty, "\(audit.findings)")
        #expect(audit.scannedFiles >= 3, "a database per node")
    }
}

/// A fresh directory under the system's temporary directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let url: URL

    init(prefix: String) throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("phantom-trail-\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }
}
