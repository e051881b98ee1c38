import CommunityInsights
import Foundation
import NIOCore
import NIOPosix
import PrivacyCore
import TestSupport

// Times the estimators on 100,000 reports and prints the accuracy, small-network and poisoning
// figures of the CommunityInsights evaluation. Run: swift run -c release --package-path Benchmarks PhantomTrailBenchmarks

func format(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

func milliseconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) * 1_000 + Double(parts.attoseconds) / 1e15
}

// `PhantomTrailBenchmarks <name>` runs one libp2p benchmark (see P2PBenchmarks.swift); no name: the insights figures.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--nio-executor") {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
if let name = arguments.first, name != "insights" {
    guard try await runP2PBenchmark(name, arguments: arguments) else {
        print(
            "unknown benchmark \(name): use insights, handshakes, upgrades, nio-baseline, cipher, throughput [--peer <addr>], memory, perf-interop, gossip, gossip-latency, p2p"
        )
        exit(2)
    }
    exit(0)
}

let clock = ContinuousClock()

// 1. Estimating every statistic from 100,000 reports.
let population = SyntheticPopulation(count: 50_000, seed: 2026)
let reports = population.randomizedReports(seed: 7)
let profile = population.users[0].localProfile
var timings: [Double] = []
var sink = 0.0
for _ in 0..<20 {
    let elapsed = clock.measure {
        let estimates = CommunityEstimates(reports: reports)
        let dashboard = CommunityDashboard(
            estimates: estimates,
            profile: profile,
            lastUpdated: Date(timeIntervalSince1970: 0),
            epochProgress: 1
        )
        sink += dashboard.comparison.betterThan.value?.value ?? 0
        sink += Double(dashboard.texts.count)
    }
    timings.append(milliseconds(elapsed))
}
let tallyOnly = clock.measure { sink += Double(ReportTally(reports).count(of: .score)) }
timings.sort()
print("== Estimating all statistics from \(reports.count) reports (tally + estimates + dashboard), 20 runs")
print(
    "   median \(format(timings[timings.count / 2])) ms, min \(format(timings[0])) ms, max \(format(timings.last!)) ms"
)
print("   tally alone: \(format(milliseconds(tallyOnly))) ms")

// 2. Accuracy at N = 10,000 and small networks.
let userScores = [35, 48, 55, 62, 68, 74, 79, 85, 91, 97]
print("\n== Accuracy of the displayed score figures (ε = 2, 10 deciles; errors vs the population's true raw scores)")
print("   N       runs  avg p95  avg ±95%  avg bias  better p95  better ±95%  median p95  coverage avg/better")
for (size, runs) in [(50, 400), (200, 400), (1_000, 400), (10_000, 200), (100_000, 50)] {
    let a = Experiments.ScoreAccuracy(size: size, runs: runs, seed: 99, userScores: userScores)
    print(
        "   \(String(size).padding(toLength: 7, withPad: " ", startingAt: 0)) \(String(runs).padding(toLength: 5, withPad: " ", startingAt: 0)) "
            + "\(format(a.averageP95).padding(toLength: 8, withPad: " ", startingAt: 0)) "
            + "\(format(a.averageHalfWidth).padding(toLength: 9, withPad: " ", startingAt: 0)) "
            + "\(format(a.averageBias).padding(toLength: 9, withPad: " ", startingAt: 0)) "
            + "\(format(a.betterThanP95).padding(toLength: 11, withPad: " ", startingAt: 0)) "
            + "\(format(a.betterThanHalfWidth).padding(toLength: 12, withPad: " ", startingAt: 0)) "
            + "\(format(a.medianP95).padding(toLength: 11, withPad: " ", startingAt: 0)) "
            + "\(format(a.averageCoverage, 3))/\(format(a.betterThanCoverage, 3))"
    )
}

// 3. Poisoning.
print(
    "\n== Adversarial score reports at N = 10,000 honest users (fakes send decile 9 directly, skipping the randomizer)"
)
for fraction in [0.05, 0.10] {
    let p = Experiments.Poisoning(size: 10_000, fraction: fraction, runs: 50, seed: 5, userScores: [62, 74, 85])
    let ranks = p.betterThanShift.sorted { $0.key < $1.key }.map { "score \($0.key): \(format($0.value, 1)) pp" }
    print(
        "   \(Int(fraction * 100))% fake: average +\(format(p.averageShift)) points, median +\(format(p.medianShift)) points, "
            + "better-than \(ranks.joined(separator: ", "))"
    )
    print(
        "       had the fakes gone through the randomizer (verifiable randomization): average +\(format(p.averageShiftIfRandomized))"
    )
}
let grr = ReportType.score.randomizer
print(
    "   amplification of one fake score report vs an honest one: (1 − q)/(p − q) = \(format((1 - grr.q) / (grr.p - grr.q)))"
)

// 4. Class sizes.
print("\n== Smallest class of reports sharing a randomized value (one epoch)")
for size in [1_000, 10_000] {
    for seed in UInt64(1)...3 {
        let sizes = Experiments.ClassSizes(population: SyntheticPopulation(count: size, seed: seed), seed: seed &* 31)
        let line = ReportType.allCases.map { "\($0.rawValue) \(sizes.smallest[$0]!)/\(sizes.reports[$0]!)" }
        print("   N=\(size) seed \(seed): \(line.joined(separator: ", "))")
    }
}

// 5. Tool usage among A-grade peers.
print("\n== 'X% of A-grade peers use T' at N = 10,000, 100,000 and 1,000,000")
for size in [10_000, 100_000, 1_000_000] {
    let community = SyntheticPopulation(count: size, seed: 3)
    let estimates = CommunityEstimates(reports: community.randomizedReports(seed: 4))
    for tool in [ProtectionTool.uBlockOrigin, .privacyBadger] {
        let truth = community.trueToolShareAmongAGrade(tool)
        switch estimates.toolUsage(tool) {
        case .shown(let usage):
            let share = usage.shareAmongAGrade
            print(
                "   N=\(size) \(tool.displayName): true \(format(100 * truth, 1))%, estimate "
                    + "\(share.map { "\(format(100 * $0.value, 1))% (\(format(100 * $0.lower, 1))–\(format(100 * $0.upper, 1))%)" } ?? "none"), "
                    + "\(usage.reports) reports, ~\(Int(usage.estimatedAGradeReports)) from A-grade users"
            )
        case .needsMoreReports(let have, let needed):
            print("   N=\(size) \(tool.displayName): withheld (\(have) reports, needs \(needed) more)")
        }
    }
}
if sink == .infinity { print(sink) }
