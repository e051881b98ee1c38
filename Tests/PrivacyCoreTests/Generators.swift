import Foundation
import PrivacyCore
import PropertyBased

/// Tracker domains the generators draw from (several share a domain, so distinct counts vary).
let sampleDomains: [String] = (0..<80).map { "tracker\($0).example" }

enum Generators {
    /// Tracker events: any category, risk and site category, times within 2024–2027.
    static var event: Generator<PrivacyReport.TrackerEvent, some SendableSequenceType> {
        zip(
            Gen.int(in: 0...(sampleDomains.count - 1)),
            Gen<TrackerCategory>.case,
            Gen<RiskLevel>.case,
            Gen<WebsiteCategory>.case,
            Gen.int(in: 1_704_067_200...1_798_761_600)
        )
        .map { domain, trackerCategory, risk, site, time in
            PrivacyReport.TrackerEvent(
                trackerDomain: sampleDomains[domain],
                trackerCategory: trackerCategory,
                riskLevel: risk,
                siteCategory: site,
                time: Double(time)
            )
        }
    }

    /// Valid local reports with 0–120 events (so the tracker cap of 50 is sometimes reached).
    static var report: Generator<PrivacyReport, some SendableSequenceType> {
        zip(
            Gen.int(in: 0...100),
            Self.event.array(of: 0...120),
            Gen<ProtectionTool>.case.array(of: 0...5),
            Gen<Region>.case.optional
        )
        .map { score, events, tools, region in
            PrivacyReport(score: score, events: events, tools: Set(tools), region: region)
        }
    }

    /// Instants from 2024 to 2027, with sub-second parts.
    static var now: Generator<Date, some SendableSequenceType> {
        Gen.double(in: 1_704_067_200...1_798_761_600).map { Date(timeIntervalSince1970: $0) }
    }
}
