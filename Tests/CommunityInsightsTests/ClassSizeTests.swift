import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

/// How many reports share each randomized value in one epoch (a report in a small class stands out).
///
/// Measured result: at N = 10,000 every type's smallest class is far above 10. At N = 1,000 score,
/// trackers, risk and tool stay above 10, but category (12 values, about 220 reports, so about 16
/// expected per value from the randomizer alone) drops below 10 in about a quarter of the epochs;
/// from N = 1,500 on it stays above 10. Region-grade classes (region sent as chosen) are reported only.
@Suite("Report class sizes")
struct ClassSizeTests {
    static let randomizedTypes: [ReportType] = [.score, .trackers, .risk, .category, .tool]

    @Test("At N = 10,000 every randomized value of every type is shared by at least 10 reports")
    func tenThousand() {
        for seed in UInt64(1)...4 {
            let sizes = Experiments.ClassSizes(
                population: SyntheticPopulation(count: 10_000, seed: seed),
                seed: seed &* 31
            )
            for type in Self.randomizedTypes {
                #expect(sizes.smallest[type]! >= 10, "\(type) seed \(seed): smallest class \(sizes.smallest[type]!)")
            }
            print("N=10000 seed=\(seed): " + Self.describe(sizes))
        }
    }

    @Test("At N = 1,000 score, trackers, risk and tool values are shared by at least 10 reports; category is measured")
    func oneThousand() {
        var categoryBelowTen = 0
        var smallestCategory = Int.max
        let seeds = UInt64(1)...40
        for seed in seeds {
            let sizes = Experiments.ClassSizes(
                population: SyntheticPopulation(count: 1_000, seed: seed),
                seed: seed &* 31
            )
            for type in Self.randomizedTypes where type != .category {
                #expect(sizes.smallest[type]! >= 10, "\(type) seed \(seed): smallest class \(sizes.smallest[type]!)")
            }
            categoryBelowTen += sizes.smallest[.category]! < 10 ? 1 : 0
            smallestCategory = min(smallestCategory, sizes.smallest[.category]!)
            if seed == 1 {
                print("N=1000 seed=1: " + Self.describe(sizes))
            }
        }
        print(
            "N=1000: category's smallest class below 10 in \(categoryBelowTen) of \(seeds.count) epochs "
                + "(smallest seen \(smallestCategory))"
        )
    }

    @Test("At N = 1,500 category values too are shared by at least 10 reports")
    func fifteenHundred() {
        for seed in UInt64(1)...20 {
            let sizes = Experiments.ClassSizes(
                population: SyntheticPopulation(count: 1_500, seed: seed),
                seed: seed &* 31
            )
            for type in Self.randomizedTypes {
                #expect(sizes.smallest[type]! >= 10, "\(type) seed \(seed): smallest class \(sizes.smallest[type]!)")
            }
        }
    }

    static func describe(_ sizes: Experiments.ClassSizes) -> String {
        "smallest class/reports per type "
            + ReportType.allCases.map { "\($0.rawValue)=\(sizes.smallest[$0]!)/\(sizes.reports[$0]!)" }
            .joined(separator: " ")
    }
}
