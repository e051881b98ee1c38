import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

/// The synthetic community end to end: anonymize → plan → envelope → proof of work → decode → validate →
/// estimate, and what a peer does with envelopes that are tampered with or belong to another network.
@Suite("Synthetic community through the envelope path")
struct SyntheticCommunityTests {
    static let epoch: UInt32 = 4_000

    /// A network that needs real (if cheap) work, so that foreign or altered envelopes fail the check.
    static func network(_ label: String) throws -> NetworkParameters {
        try NetworkParameters(label: label, epochLengthSeconds: 600, difficultyBits: 8, scryptCostLog2: 1)
    }

    @Test("At N = 2,000 the average's 95% interval covers the true mean in at least 9 of 10 seeds")
    func averageCoversTruth() async throws {
        var covered = 0
        for seed: UInt64 in 1...10 {
            let population = SyntheticPopulation(count: 2_000, seed: seed)
            let community = await SyntheticCommunity(population: population, epoch: Self.epoch, seed: seed &+ 100)
            let admitted = await community.admitted
            #expect(admitted.rejected == 0)
            #expect(admitted.reports.count == 2 * population.users.count)
            let average = try #require(await community.estimates().averageScore.value)
            if average.covers(population.trueMeanScore) {
                covered += 1
            }
        }
        #expect(covered >= 9, "covered in \(covered) of 10 seeds")
    }

    @Test("Every user sends one score report and one secondary report their settings allow")
    func planShape() async {
        let population = SyntheticPopulation(count: 300, seed: 5)
        let reports = await SyntheticCommunity(population: population, epoch: Self.epoch, seed: 6).admitted.reports
        #expect(reports.count == 600)
        for (index, user) in population.users.enumerated() {
            #expect(reports[2 * index].type == .score)
            let secondary = reports[2 * index + 1]
            #expect(secondary.type != .score)
            if case .regionGrade(let region, _) = secondary {
                #expect(region == user.region)
            }
        }
        #expect(population.users.allSatisfy { ($0.region != nil) == $0.sharingSettings.shareRegionalData })
    }

    @Test("The same seed gives the same envelopes however the chunks are scheduled; another seed gives others")
    func deterministic() async {
        let population = SyntheticPopulation(count: 1_100, seed: 3)  // three chunks, run in parallel
        let first = await SyntheticCommunity(population: population, epoch: Self.epoch, seed: 9)
        let second = await SyntheticCommunity(population: population, epoch: Self.epoch, seed: 9)
        let other = await SyntheticCommunity(population: population, epoch: Self.epoch, seed: 10)
        #expect(first.envelopes == second.envelopes)
        #expect(first.envelopes != other.envelopes)
        #expect(first.envelopes.allSatisfy { $0.count == ReportEnvelope.size })
    }

    @Test("Envelopes of another network are rejected and do not count")
    func foreignNetwork() async throws {
        let home = try Self.network("home")
        let foreign = try Self.network("foreign")
        let population = SyntheticPopulation(count: 30, seed: 21)
        let genuine = await SyntheticCommunity(population: population, parameters: home, epoch: Self.epoch, seed: 1)
        let intruders = await SyntheticCommunity(
            population: population,
            parameters: foreign,
            epoch: Self.epoch,
            seed: 2
        )

        let own = SyntheticCommunity.admit(genuine.envelopes, parameters: home, currentEpoch: Self.epoch)
        #expect(own.rejected == 0)
        let mixed = SyntheticCommunity.admit(
            genuine.envelopes + intruders.envelopes,
            parameters: home,
            currentEpoch: Self.epoch
        )
        // A foreign envelope passes 8 bits of difficulty by chance with probability 1/256.
        #expect(mixed.rejected >= intruders.envelopes.count - 2, "rejected \(mixed.rejected)")
        #expect(mixed.reports.count + mixed.rejected == genuine.envelopes.count + intruders.envelopes.count)
        #expect(Array(mixed.reports.prefix(own.reports.count)) == own.reports)
    }

    @Test("Tampered envelopes are rejected and do not count")
    func tampered() async throws {
        let home = try Self.network("home")
        let community = await SyntheticCommunity(
            population: SyntheticPopulation(count: 20, seed: 4),
            parameters: home,
            epoch: Self.epoch,
            seed: 8
        )
        var tampered: [[UInt8]] = []
        for (index, envelope) in community.envelopes.enumerated() {
            var bytes = envelope
            switch index % 4 {
            case 0: bytes[100] = 1  // padding
            case 1: bytes[15] ^= 0x02  // epoch (now two epochs ahead)
            case 2: bytes[20] ^= 0x01  // nonce: the proof of work no longer holds
            default: bytes.removeLast()  // truncated
            }
            tampered.append(bytes)
        }
        let result = SyntheticCommunity.admit(tampered, parameters: home, currentEpoch: Self.epoch)
        // Only an altered nonce can pass, by chance (1/256 each).
        #expect(result.rejected >= tampered.count - 2, "rejected \(result.rejected) of \(tampered.count)")
        let genuine = SyntheticCommunity.admit(community.envelopes, parameters: home, currentEpoch: Self.epoch)
        #expect(genuine.rejected == 0)
        let both = SyntheticCommunity.admit(tampered + community.envelopes, parameters: home, currentEpoch: Self.epoch)
        #expect(both.rejected == result.rejected)
        #expect(both.reports.count == genuine.reports.count + result.reports.count)
    }

    @Test("Envelopes of a finished epoch are rejected")
    func staleEpoch() async {
        let community = await SyntheticCommunity(population: SyntheticPopulation(count: 10, seed: 2), epoch: 7, seed: 3)
        let parameters = SyntheticCommunity.parameters
        #expect(SyntheticCommunity.admit(community.envelopes, parameters: parameters, currentEpoch: 8).rejected == 0)
        #expect(
            SyntheticCommunity.admit(community.envelopes, parameters: parameters, currentEpoch: 9).rejected
                == community.envelopes.count
        )
    }
}
