import ArgumentParser
import Foundation
import PrivacyCore
import TestSupport

/// `phantom-trail anonymize`: shows what a local report becomes before anything is shared: the
/// anonymized summary (which stays on the device) and the randomized wire reports of this epoch.
struct AnonymizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anonymize",
        abstract: "Show the anonymized summary of a privacy report and the wire reports this epoch would send.",
        discussion: """
            Nothing is sent. The report file is the JSON format of docs/privacy-report.schema.json \
            (see examples/report.json). Wire reports are randomized on this device, so their values \
            differ from the truth on purpose; a fresh randomizer secret is drawn for every run unless --seed is given.
            """
    )

    /// Which network's parameters to use.
    enum NetworkChoice: String, ExpressibleByArgument, CaseIterable {
        case `public`
        case demo

        var parameters: NetworkParameters {
            switch self {
            case .public: .publicNetwork
            case .demo: .demo
            }
        }
    }

    @Option(name: .long, help: "The local privacy report (JSON, at most 16 MiB).")
    var report: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Preview with shareRegionalData on (the region is included).")
    var shareRegionalData = false

    @Option(name: .long, help: "The network whose parameters apply: public or demo.")
    var network: NetworkChoice = .public

    @Option(name: .long, help: "The current time as ISO 8601 UTC (default: the system clock).")
    var now: String?

    @Option(name: .long, help: "Seed for reproducible output (derives the randomizer secret and all randomness).")
    var seed: UInt64?

    @Flag(name: .long, help: "Also mint each report's proof of work and show the 512-byte envelope (takes seconds).")
    var mint = false

    func validate() throws {
        if let now, parseTime(now) == nil {
            throw ValidationError("--now: \"\(now)\" is not an ISO 8601 UTC date-time (e.g. 2026-11-27T12:00:00Z)")
        }
    }

    func run() throws {
        print(try self.output(now: Date()), terminator: "")
    }

    /// What the command prints: the preview as text or JSON.
    /// - Parameter now: the system clock, used unless `--now` is given.
    func output(now: Date) throws -> String {
        let localReport = try readPrivacyReport(atPath: self.report)
        let time = self.now.flatMap(parseTime) ?? now
        let preview: AnonymizePreview
        if let seed = self.seed {
            var generator = SeededGenerator(seed: seed)
            let secret = RandomizerSecret.generate(using: &generator)
            preview = try self.preview(of: localReport, now: time, secret: secret, using: &generator)
        } else {
            var generator = SystemRandomNumberGenerator()
            preview = try self.preview(of: localReport, now: time, secret: .generate(), using: &generator)
        }
        return self.json ? preview.json() : preview.text()
    }

    private func preview(
        of report: PrivacyReport,
        now: Date,
        secret: RandomizerSecret,
        using rng: inout some RandomNumberGenerator
    ) throws -> AnonymizePreview {
        try AnonymizePreview(
            report: report,
            parameters: self.network.parameters,
            shareRegionalData: self.shareRegionalData,
            now: now,
            secret: secret,
            mint: self.mint,
            using: &rng
        )
    }
}

/// Everything the command shows, computed by PrivacyCore.
struct AnonymizePreview {
    struct Planned {
        let entry: EpochPlan.Entry
        let envelope: [UInt8]?
        let mintSeconds: Double?
        let verifySeconds: Double?
    }

    let report: PrivacyReport
    let summary: AnonymousPrivacyData
    let parameters: NetworkParameters
    let epoch: UInt32
    let planned: [Planned]

    init(
        report: PrivacyReport,
        parameters: NetworkParameters,
        shareRegionalData: Bool,
        now: Date,
        secret: RandomizerSecret,
        mint: Bool,
        using rng: inout some RandomNumberGenerator
    ) throws {
        // The preview assumes the user opted in to sharing: it shows what would be sent.
        let settings = try P2PSettings(
            joinPrivacyNetwork: true,
            shareAnonymousData: true,
            shareRegionalData: shareRegionalData
        )
        let summary = try anonymizeForP2P(report, settings: settings, now: now)
        let epoch = try parameters.schedule.epoch(containing: now)
        let plan = EpochPlan(
            epoch: epoch,
            schedule: parameters.schedule,
            settings: settings,
            truth: TrueReportValues(report: report, summary: summary),
            secret: secret,
            using: &rng
        )
        var planned: [Planned] = []
        for entry in plan.entries {
            guard mint else {
                planned.append(Planned(entry: entry, envelope: nil, mintSeconds: nil, verifySeconds: nil))
                continue
            }
            let envelope = try ReportEnvelope(epoch: plan.epoch, report: entry.report)
            let clock = ContinuousClock()
            let mintStart = clock.now
            let minted = try ProofOfWork.mint(envelope, parameters: parameters, using: &rng)
            let minting = clock.now - mintStart
            let verifyStart = clock.now
            try minted.validate(parameters: parameters, currentEpoch: plan.epoch)
            let verifying = clock.now - verifyStart
            planned.append(
                Planned(
                    entry: entry,
                    envelope: minted.encode(),
                    mintSeconds: minting.seconds,
                    verifySeconds: verifying.seconds
                )
            )
        }
        self.report = report
        self.parameters = parameters
        self.summary = summary
        self.epoch = epoch
        self.planned = planned
    }

    func text() -> String {
        let s = self.summary
        let risk = RiskLevel.allCases.map { "\($0.rawValue) \(s.riskDistribution[$0])%" }.joined(separator: ", ")
        let categories =
            s.websiteCategories.isEmpty ? "none" : s.websiteCategories.map(\.displayName).joined(separator: ", ")
        var lines = [
            "Anonymized summary (stays on this device):",
            "  Privacy score:   \(s.privacyScore) (grade \(s.grade); measured \(self.report.score))",
            "  Trackers:        \(s.trackerCount)\(s.trackerCount == AnonymousPrivacyData.maximumTrackerCount ? " (capped)" : "")",
            "  Risk:            \(risk)",
            "  Top categories:  \(categories)",
            "  Time:            \(formatTime(s.timestamp))",
            "  Region:          \(s.region?.displayName ?? "not shared")",
            "",
            "Network \"\(self.parameters.label)\": epoch \(self.epoch) "
                + "(\(formatTime(self.parameters.schedule.start(of: self.epoch))) to "
                + "\(formatTime(self.parameters.schedule.end(of: self.epoch)))), "
                + "proof of work \(self.parameters.difficultyBits) bits at scrypt N = 2^\(self.parameters.scryptCostLog2)",
            "Wire reports this epoch would send (randomized on this device; values may differ from the truth on purpose):",
        ]
        for (number, planned) in self.planned.enumerated() {
            let report = planned.entry.report
            lines.append(
                "  \(number + 1). \(report.type.rawValue): \(describe(report)) "
                    + "(ε = \(formatEpsilon(report.type.epsilon)), sent at \(formatTime(planned.entry.sendAt)))"
            )
            if let envelope = planned.envelope, let mint = planned.mintSeconds, let verify = planned.verifySeconds {
                lines.append(
                    "     envelope: \(envelope.count) bytes, minted in \(String(format: "%.3f", mint)) s, "
                        + "verified in \(String(format: "%.3f", verify)) s"
                )
                lines.append("     \(hex(envelope.prefix(24)))… (zero padding)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        struct Output: Encodable {
            let summary: AnonymousPrivacyData
            let network: Network
            let epoch: UInt32
            let epochStart: String
            let epochEnd: String
            let reports: [Report]
        }
        struct Network: Encodable {
            let label: String
            let epochLengthSeconds: Int64
            let difficultyBits: Int
            let scryptCostLog2: Int
        }
        struct Report: Encodable {
            let type: String
            let epsilon: Double
            let sendAt: String
            let value: [String: Scalar]
            let envelopeHex: String?
            let mintSeconds: Double?
            let verifySeconds: Double?
        }
        let output = Output(
            summary: self.summary,
            network: Network(
                label: self.parameters.label,
                epochLengthSeconds: self.parameters.schedule.lengthSeconds,
                difficultyBits: self.parameters.difficultyBits,
                scryptCostLog2: self.parameters.scryptCostLog2
            ),
            epoch: self.epoch,
            epochStart: formatTime(self.parameters.schedule.start(of: self.epoch)),
            epochEnd: formatTime(self.parameters.schedule.end(of: self.epoch)),
            reports: self.planned.map { planned in
                Report(
                    type: planned.entry.report.type.rawValue,
                    epsilon: planned.entry.report.type.epsilon,
                    sendAt: formatTime(planned.entry.sendAt),
                    value: fields(planned.entry.report),
                    envelopeHex: planned.envelope.map { hex($0[...]) },
                    mintSeconds: planned.mintSeconds,
                    verifySeconds: planned.verifySeconds
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try! encoder.encode(output), as: UTF8.self) + "\n"
    }
}

private func describe(_ report: WireReport) -> String {
    switch report {
    case .score(let decile): "score decile \(decile) (\(decile * 10)–\(decile == 9 ? 100 : decile * 10 + 9))"
    case .trackers(let bucket): "\(["0", "1–5", "6–15", "16–30", "31–50", "51+"][bucket]) trackers"
    case .risk(let bucket): "\(["none", "under 10%", "10–30%", "over 30%"][bucket]) of events high or critical risk"
    case .category(let category): "top category \(category.displayName)"
    case .regionGrade(let region, let grade): "region \(region.displayName), grade \(grade)"
    case .tool(let tool, let isAGrade, let usesTool):
        "\(tool.displayName): A-grade \(isAGrade ? "yes" : "no"), uses it \(usesTool ? "yes" : "no")"
    }
}

/// A JSON scalar of a report's value.
private enum Scalar: Encodable {
    case integer(Int)
    case text(String)
    case boolean(Bool)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .boolean(let value): try container.encode(value)
        }
    }
}

private func fields(_ report: WireReport) -> [String: Scalar] {
    switch report {
    case .score(let decile): ["decile": .integer(decile)]
    case .trackers(let bucket): ["bucket": .integer(bucket)]
    case .risk(let bucket): ["bucket": .integer(bucket)]
    case .category(let category): ["category": .text(category.rawValue)]
    case .regionGrade(let region, let grade): ["region": .text(region.rawValue), "grade": .text(grade.rawValue)]
    case .tool(let tool, let isAGrade, let usesTool):
        ["tool": .text(tool.rawValue), "is_a_grade": .boolean(isAGrade), "uses_tool": .boolean(usesTool)]
    }
}

private func parseTime(_ text: String) -> Date? {
    try? Date.ISO8601FormatStyle().parse(text)
}

private func formatTime(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle())
}

private func formatEpsilon(_ epsilon: Double) -> String {
    epsilon == epsilon.rounded() ? String(Int(epsilon)) : String(epsilon)
}

private func hex(_ bytes: ArraySlice<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

extension Duration {
    fileprivate var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18
    }
}
