import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

@Suite("Synthetic population")
struct SyntheticPopulationTests {
    @Test("The same seed gives the same population and reports")
    func deterministic() {
        let first = SyntheticPopulation(count: 300, seed: 99)
        let second = SyntheticPopulation(count: 300, seed: 99)
        #expect(first.users == second.users)
        #expect(first.randomizedReports(seed: 1) == second.randomizedReports(seed: 1))
        #expect(first.users != SyntheticPopulation(count: 300, seed: 100).users)
    }

    @Test("Each user's profile, read from their privacy report, matches the generator's quantities")
    func reportsMatchTruth() throws {
        for user in SyntheticPopulation(count: 400, seed: 12).users {
            let profile = try LocalProfile(report: user.privacyReport)
            let truth = user.truth
            let rounded = (user.score + 2) / 5 * 5
            #expect(profile.score == user.score)
            #expect(profile.anonymizedScore == rounded)
            #expect(profile.scoreDecile == truth.scoreDecile)
            #expect(truth.scoreDecile == min(rounded / 10, 9))
            #expect(profile.trackerCount == user.trackerCount)
            #expect(profile.trackersBucket == truth.trackersBucket)
            #expect((user.trackerCount == 0) == (truth.trackersBucket == 0))
            #expect(profile.riskBucket == truth.riskBucket)
            #expect((user.highRiskEvents == 0) == (truth.riskBucket == 0))
            #expect(profile.topCategories == truth.topCategories)
            #expect(Set(truth.topCategories) == Set(user.categoryEvents.map { SiteCategory(folding: $0.category) }))
            #expect(profile.reportedGrade == truth.reportedGrade)
            #expect(profile.tools == user.tools && truth.tools == user.tools)
            #expect(profile.region == user.region && truth.region == user.region)
        }
    }

    @Test("Marginals are as documented and A-grade users use more tools")
    func marginals() {
        let population = SyntheticPopulation(count: 20_000, seed: 8)
        #expect(abs(population.trueMeanScore - 70) < 1)
        let aGrade = population.users.filter { $0.truth.reportedGrade == .a }
        let others = population.users.filter { $0.truth.reportedGrade != .a }
        let aShare = Double(aGrade.count) / Double(population.users.count)
        #expect((0.08...0.18).contains(aShare), "A-grade share \(aShare)")
        let aTools = Double(aGrade.reduce(0) { $0 + $1.tools.count }) / Double(aGrade.count)
        let otherTools = Double(others.reduce(0) { $0 + $1.tools.count }) / Double(others.count)
        #expect(aTools > otherTools + 1, "tools per A-grade user \(aTools), others \(otherTools)")
        let withRegion = Double(population.users.filter { $0.region != nil }.count) / Double(population.users.count)
        #expect(abs(withRegion - 0.6) < 0.02)
    }

    @Test("Each user sends one score report and one allowed secondary report per epoch")
    func reportsPerEpoch() {
        let population = SyntheticPopulation(count: 500, seed: 4)
        let reports = population.trueReports(seed: 5)
        #expect(reports.count == 1_000)
        for (index, user) in population.users.enumerated() {
            #expect(reports[2 * index] == .score(decile: user.truth.scoreDecile))
            let secondary = reports[2 * index + 1]
            #expect(user.truth.allowedSecondaryTypes.contains(secondary.type))
            if case .regionGrade(let region, let grade) = secondary {
                #expect(region == user.region && grade == user.truth.reportedGrade)
            }
        }
    }

    @Test("The GRR sampler keeps the true value with probability p and spreads the rest uniformly")
    func samplerFrequencies() {
        var generator = SeededGenerator(seed: 21)
        let randomizer = ReportType.risk.randomizer
        var counts = Array(repeating: 0, count: 4)
        let n = 200_000
        for _ in 0..<n {
            counts[GRRSampler.randomize(1, with: randomizer, using: &generator)] += 1
        }
        #expect(abs(Double(counts[1]) / Double(n) - randomizer.p) < 0.005)
        for other in [0, 2, 3] {
            #expect(abs(Double(counts[other]) / Double(n) - randomizer.q) < 0.005)
        }
    }
}
