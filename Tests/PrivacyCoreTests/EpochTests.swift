import Foundation
import PrivacyCore
import TestSupport
import Testing

@Suite("Epochs")
struct EpochScheduleTests {
    @Test("Weekly epochs start on Monday 00:00 UTC; epoch 2968 is the week of 2026-11-23")
    func weekly() throws {
        let schedule = EpochSchedule.weekly
        let monday = Date(timeIntervalSince1970: 1_795_392_000)  // 2026-11-23T00:00:00Z, a Monday
        #expect(schedule.start(of: 2968) == monday)
        #expect(schedule.end(of: 2968) == monday.addingTimeInterval(604_800))
        #expect(try schedule.epoch(containing: monday) == 2968)
        #expect(try schedule.epoch(containing: monday.addingTimeInterval(-0.001)) == 2967)
        #expect(try schedule.epoch(containing: monday.addingTimeInterval(604_799.999)) == 2968)
        #expect(try schedule.epoch(containing: EpochSchedule.origin) == 0)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for epoch: UInt32 in [0, 1, 2000, 2968, 5000] {
            let start = schedule.start(of: epoch)
            #expect(calendar.component(.weekday, from: start) == 2)  // Monday
            #expect(calendar.component(.hour, from: start) == 0)
        }
    }

    @Test("Short demo epochs")
    func demo() throws {
        let schedule = try EpochSchedule(lengthSeconds: 600)
        let start = schedule.start(of: 10)
        #expect(start == EpochSchedule.origin.addingTimeInterval(6000))
        #expect(try schedule.epoch(containing: start.addingTimeInterval(599)) == 10)
        #expect(try schedule.epoch(containing: start.addingTimeInterval(600)) == 11)
    }

    @Test("Out-of-range lengths and times are rejected")
    func invalid() {
        #expect(throws: EpochScheduleError.lengthOutOfRange(59)) { try EpochSchedule(lengthSeconds: 59) }
        #expect(throws: EpochScheduleError.lengthOutOfRange(0)) { try EpochSchedule(lengthSeconds: 0) }
        #expect(throws: EpochScheduleError.outOfRange) {
            try EpochSchedule.weekly.epoch(containing: EpochSchedule.origin.addingTimeInterval(-1))
        }
        #expect(throws: EpochScheduleError.outOfRange) {
            try EpochSchedule(lengthSeconds: 60).epoch(containing: Date(timeIntervalSince1970: 1e15))
        }
    }

    @Test("The clock reads the injected time")
    func clock() throws {
        let clock = EpochClock(schedule: .weekly) { Date(timeIntervalSince1970: 1_795_392_000 + 3600) }
        #expect(try clock.currentEpoch() == 2968)
    }
}

@Suite("Epoch plan")
struct EpochPlanTests {
    static let report = try! PrivacyReport(jsonData: Data(PrivacyReport.exampleJSON.utf8))
    static let now = Date(timeIntervalSince1970: 1_795_400_000)

    static func truth(settings: P2PSettings) -> TrueReportValues {
        let summary = try! anonymizeForP2P(Self.report, settings: settings, now: Self.now)
        return TrueReportValues(report: Self.report, summary: summary)
    }

    static func plan(_ settings: P2PSettings, seed: UInt64, schedule: EpochSchedule = .weekly) -> EpochPlan {
        var rng = SplitMix64(seed: seed)
        return EpochPlan(
            epoch: 2968,
            schedule: schedule,
            settings: settings,
            truth: Self.truth(settings: settings),
            secret: fixedSecret(3),
            using: &rng
        )
    }

    @Test("Nothing is sent without joining and sharing")
    func consent() throws {
        for settings in [
            P2PSettings(),
            try P2PSettings(joinPrivacyNetwork: true),
            try P2PSettings(shareAnonymousData: true),
            try P2PSettings(shareAnonymousData: true, shareRegionalData: true),
        ] {
            #expect(Self.plan(settings, seed: 1).entries.isEmpty)
            #expect(EpochPlan.allowedSecondaryTypes(settings: settings, region: .europe).isEmpty)
        }
    }

    @Test("Allowed secondary types: regionGrade only with shareRegionalData and a region")
    func allowedTypes() throws {
        let sharing = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true)
        let regional = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, shareRegionalData: true)
        let base: [ReportType] = [.trackers, .risk, .category, .tool]
        #expect(EpochPlan.allowedSecondaryTypes(settings: sharing, region: .europe) == base)
        #expect(EpochPlan.allowedSecondaryTypes(settings: regional, region: nil) == base)
        #expect(
            EpochPlan.allowedSecondaryTypes(settings: regional, region: .asia) == [
                .trackers, .risk, .category, .regionGrade, .tool,
            ]
        )
    }

    @Test("A sharing user sends one score report and one allowed secondary report, inside the epoch")
    func shape() throws {
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, shareRegionalData: true)
        let schedule = try EpochSchedule(lengthSeconds: 600)
        for seed: UInt64 in 0..<200 {
            let plan = Self.plan(settings, seed: seed, schedule: schedule)
            try #require(plan.entries.count == 2)
            #expect(plan.entries[0].report.type == .score)
            #expect(plan.entries[1].report.type != .score)
            for entry in plan.entries {
                #expect(entry.sendAt >= schedule.start(of: 2968) && entry.sendAt < schedule.end(of: 2968))
                #expect(throws: Never.self) { try ReportEnvelope(epoch: plan.epoch, report: entry.report) }
            }
            if case .regionGrade(let region, _) = plan.entries[1].report {
                #expect(region == .europe)
            }
        }
    }

    @Test("The secondary type is uniform over the allowed types and send times are uniform over the epoch")
    func uniformity() throws {
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true)
        let schedule = EpochSchedule.weekly
        let truth = Self.truth(settings: settings)
        var rng = SplitMix64(seed: 99)
        var typeCounts: [ReportType: Int] = [:]
        var timeBins = [Int](repeating: 0, count: 10)
        let plans = 8000
        for _ in 0..<plans {
            let plan = EpochPlan(
                epoch: 2968,
                schedule: schedule,
                settings: settings,
                truth: truth,
                secret: fixedSecret(3),
                using: &rng
            )
            typeCounts[plan.entries[1].report.type, default: 0] += 1
            for entry in plan.entries {
                let fraction = entry.sendAt.timeIntervalSince(schedule.start(of: 2968)) / 604_800
                timeBins[Int(fraction * 10)] += 1
            }
        }
        // χ² at the 99.9% level: 16.266 for 3 degrees of freedom, 27.877 for 9.
        let expectedType = Double(plans) / 4
        let typeChi = [ReportType.trackers, .risk, .category, .tool].reduce(0.0) {
            let observed = Double(typeCounts[$1] ?? 0)
            return $0 + (observed - expectedType) * (observed - expectedType) / expectedType
        }
        #expect(typeChi < 16.266)
        let expectedBin = Double(2 * plans) / 10
        let timeChi = timeBins.reduce(0.0) {
            $0 + (Double($1) - expectedBin) * (Double($1) - expectedBin) / expectedBin
        }
        #expect(timeChi < 27.877)
    }
}
