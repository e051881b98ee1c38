public import Foundation

/// What one user sends in one epoch (privacy-design.md, "Wire reports"): one score report and one
/// secondary report of a type drawn uniformly from the allowed types, each at a uniformly random moment
/// of the epoch. Nothing at all without `joinPrivacyNetwork` and `shareAnonymousData`.
public struct EpochPlan: Hashable, Sendable {
    /// One planned report.
    public struct Entry: Hashable, Sendable {
        /// When to hand the report to the network (inside the epoch).
        public let sendAt: Date
        /// The randomized report.
        public let report: WireReport

        /// A planned report.
        public init(sendAt: Date, report: WireReport) {
            self.sendAt = sendAt
            self.report = report
        }
    }

    /// The epoch the plan is for.
    public let epoch: UInt32
    /// The reports: empty, or the score report followed by the secondary report.
    public let entries: [Entry]

    /// The secondary report types these settings allow: trackers, risk, category and tool whenever the
    /// user shares; regionGrade only with `shareRegionalData` on and a region set. Empty without sharing.
    /// Depends only on settings, never on the measured data, so the choice of type reveals nothing.
    public static func allowedSecondaryTypes(settings: P2PSettings, region: Region?) -> [ReportType] {
        guard settings.sendsReports else { return [] }
        var types: [ReportType] = [.trackers, .risk, .category, .tool]
        if settings.shareRegionalData, region != nil {
            types.append(.regionGrade)
        }
        return types.sorted { $0.index < $1.index }
    }

    /// Draws the plan of `epoch`.
    /// - Parameters:
    ///   - epoch: the epoch number.
    ///   - schedule: the network's epoch schedule (the send times fall inside the epoch).
    ///   - settings: the user's consent settings.
    ///   - truth: the true values (the region in it is already nil unless sharing it is allowed).
    ///   - secret: the device-local randomizer secret.
    ///   - rng: fresh randomness (type choice, send times, instantaneous responses).
    public init(
        epoch: UInt32,
        schedule: EpochSchedule,
        settings: P2PSettings,
        truth: TrueReportValues,
        secret: RandomizerSecret,
        using rng: inout some RandomNumberGenerator
    ) {
        self.epoch = epoch
        let secondaryTypes = Self.allowedSecondaryTypes(settings: settings, region: truth.region)
        guard settings.sendsReports, !secondaryTypes.isEmpty else {
            self.entries = []
            return
        }
        let start = schedule.start(of: epoch)
        let length = Double(schedule.lengthSeconds)
        func sendTime() -> Date {
            start.addingTimeInterval((rng.nextUnitInterval() * length * 1000).rounded(.down) / 1000)
        }
        let secondaryType = secondaryTypes[rng.nextIndex(below: secondaryTypes.count)]
        let scoreAt = sendTime()
        let secondaryAt = sendTime()
        // Both types are answerable: score always, the secondary type by construction of the allowed list.
        let score = truth.wireReport(.score, secret: secret, using: &rng)!
        let secondary = truth.wireReport(secondaryType, secret: secret, using: &rng)!
        self.entries = [Entry(sendAt: scoreAt, report: score), Entry(sendAt: secondaryAt, report: secondary)]
    }
}
