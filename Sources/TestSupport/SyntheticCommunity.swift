public import CommunityInsights
public import Foundation
public import PrivacyCore

/// A synthetic community for demos, tests and the `insights` command: every synthetic user sends one
/// epoch of reports through the same path a real node takes, and the estimates are made from what a
/// peer admits.
///
/// Per user: ``anonymizeForP2P(_:settings:now:)`` of the user's ``SyntheticUser/privacyReport`` (sharing
/// on; regional sharing on exactly for the users with a region), ``TrueReportValues``, an ``EpochPlan``
/// drawn with the user's own ``RandomizerSecret``, then one 512-byte ``ReportEnvelope`` per planned
/// report, minted with ``ProofOfWork``. The receiving side decodes every envelope with
/// ``ReportEnvelope/init(decoding:)`` and checks it with ``ReportEnvelope/validate(parameters:currentEpoch:)``
/// (see ``admit(_:parameters:currentEpoch:)``); only admitted reports reach ``CommunityEstimates``.
public struct SyntheticCommunity: Sendable {
    /// The parameters of synthetic networks: label "synthetic", 10-minute epochs, no required proof of
    /// work (difficulty 0) and the cheapest scrypt (N = 2), so minting is one cheap scrypt call and
    /// admission still runs the full check (decoding, epoch, one scrypt call). At difficulty 0 the work
    /// check passes any envelope, so rejecting foreign or altered envelopes needs parameters with a
    /// difficulty above 0 (the initializer takes any parameters).
    public static let parameters = try! NetworkParameters(
        label: "synthetic",
        epochLengthSeconds: 600,
        difficultyBits: 0,
        scryptCostLog2: NetworkParameters.scryptCostLog2Range.lowerBound
    )

    /// The synthetic users.
    public let population: SyntheticPopulation
    /// The network the envelopes were minted for.
    public let parameters: NetworkParameters
    /// The epoch the envelopes belong to.
    public let epoch: UInt32
    /// Every envelope the users sent this epoch (two per user), in user order.
    public let envelopes: [[UInt8]]

    /// Users per unit of parallel work. Each chunk has its own generator, derived from the seed and the
    /// chunk's position, so the envelopes never depend on how many cores run the chunks.
    static let chunkSize = 500

    /// Runs one epoch of `population` through anonymization, randomization, envelope and proof of work,
    /// spreading the users over the available cores.
    /// - Parameters:
    ///   - population: the users.
    ///   - parameters: the network's parameters (its difficulty sets the minting cost).
    ///   - epoch: the epoch the users report in.
    ///   - seed: seeds every user's randomizer secret and all randomness, so equal seeds give equal envelopes.
    public init(
        population: SyntheticPopulation,
        parameters: NetworkParameters = Self.parameters,
        epoch: UInt32,
        seed: UInt64
    ) async {
        let users = population.users
        let chunks = Array(stride(from: 0, to: users.count, by: Self.chunkSize))
        self.envelopes = await withTaskGroup(of: (Int, [[UInt8]]).self) { group in
            for (index, start) in chunks.enumerated() {
                let chunk = users[start..<min(start + Self.chunkSize, users.count)]
                let chunkSeed = seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
                group.addTask {
                    (index, Self.send(chunk, parameters: parameters, epoch: epoch, seed: chunkSeed))
                }
            }
            var byChunk = [[[UInt8]]](repeating: [], count: chunks.count)
            for await (index, envelopes) in group {
                byChunk[index] = envelopes
            }
            return byChunk.flatMap { $0 }
        }
        self.population = population
        self.parameters = parameters
        self.epoch = epoch
    }

    /// The reports a peer on this community's network admits from the envelopes sent (checked in
    /// parallel, kept in order).
    public var admitted: AdmittedReports {
        get async {
            let envelopes = self.envelopes
            let (parameters, epoch) = (self.parameters, self.epoch)
            let step = 2 * Self.chunkSize
            let starts = Array(stride(from: 0, to: envelopes.count, by: step))
            return await withTaskGroup(of: (Int, AdmittedReports).self) { group in
                for (index, start) in starts.enumerated() {
                    let batch = envelopes[start..<min(start + step, envelopes.count)]
                    group.addTask { (index, Self.admit(batch, parameters: parameters, currentEpoch: epoch)) }
                }
                var byBatch = [AdmittedReports](repeating: AdmittedReports(), count: starts.count)
                for await (index, admitted) in group {
                    byBatch[index] = admitted
                }
                var all = AdmittedReports()
                for batch in byBatch {
                    all.reports += batch.reports
                    all.rejected += batch.rejected
                }
                return all
            }
        }
    }

    /// The estimates a peer makes from the admitted reports.
    public func estimates(policy: DisplayPolicy = .standard) async -> CommunityEstimates {
        CommunityEstimates(reports: await self.admitted.reports, policy: policy)
    }

    /// The envelopes `users` send in `epoch`: each user anonymizes their report, plans the epoch with a
    /// fresh secret and mints one envelope per planned report.
    private static func send(
        _ users: ArraySlice<SyntheticUser>,
        parameters: NetworkParameters,
        epoch: UInt32,
        seed: UInt64
    ) -> [[UInt8]] {
        var generator = SeededGenerator(seed: seed)
        let now = parameters.schedule.start(of: epoch)
        var envelopes: [[UInt8]] = []
        envelopes.reserveCapacity(users.count * 2)
        for user in users {
            let plan = EpochPlan(
                epoch: epoch,
                schedule: parameters.schedule,
                settings: user.sharingSettings,
                truth: user.trueReportValues(now: now),
                secret: RandomizerSecret.generate(using: &generator),
                using: &generator
            )
            for entry in plan.entries {
                envelopes.append(Self.mint(entry.report, epoch: epoch, parameters: parameters, using: &generator))
            }
        }
        return envelopes
    }

    /// Decodes and checks envelopes exactly as a receiving peer does: ``ReportEnvelope/init(decoding:)``
    /// then ``ReportEnvelope/validate(parameters:currentEpoch:)``. Rejected envelopes are counted, never
    /// estimated from.
    public static func admit(
        _ envelopes: some Sequence<[UInt8]>,
        parameters: NetworkParameters,
        currentEpoch: UInt32
    ) -> AdmittedReports {
        var admitted = AdmittedReports()
        for bytes in envelopes {
            do {
                let envelope = try ReportEnvelope(decoding: bytes)
                try envelope.validate(parameters: parameters, currentEpoch: currentEpoch)
                admitted.reports.append(envelope.report)
            } catch {
                admitted.rejected += 1
            }
        }
        return admitted
    }

    /// The dashboard `report`'s owner would see in a synthetic network of `size` users.
    /// - Parameters:
    ///   - report: the user's local report.
    ///   - size: number of synthetic users.
    ///   - seed: seed of the population and of every user's randomization.
    ///   - now: the current time (it picks the epoch and is stamped on the statistics).
    /// - Throws: ``PrivacyReportError`` if `report` breaks the format's rules; ``EpochScheduleError`` if
    ///   `now` is before the epoch origin.
    public static func dashboard(
        for report: PrivacyReport,
        size: Int,
        seed: UInt64,
        now: Date
    ) async throws -> CommunityDashboard {
        let profile = try LocalProfile(report: report)
        let epoch = try Self.parameters.schedule.epoch(containing: now)
        let community = await SyntheticCommunity(
            population: SyntheticPopulation(count: size, seed: seed),
            epoch: epoch,
            seed: seed &+ 1
        )
        return CommunityDashboard(
            estimates: await community.estimates(),
            profile: profile,
            lastUpdated: now,
            epochProgress: 1
        )
    }

    private static func mint(
        _ report: WireReport,
        epoch: UInt32,
        parameters: NetworkParameters,
        using generator: inout SeededGenerator
    ) -> [UInt8] {
        do {
            let envelope = try ReportEnvelope(epoch: epoch, report: report)
            return try ProofOfWork.mint(envelope, parameters: parameters, using: &generator).encode()
        } catch {
            // The randomizers only produce in-domain values, and minting without a limit never gives up.
            preconditionFailure("synthetic report could not be enveloped: \(error)")
        }
    }
}

/// What a peer kept of a batch of envelopes.
public struct AdmittedReports: Hashable, Sendable {
    /// The reports of the admitted envelopes, in arrival order.
    public var reports: [WireReport] = []
    /// How many envelopes were rejected (malformed, wrong epoch, or too little or foreign proof of work).
    public var rejected = 0

    /// An empty batch.
    public init() {}
}

extension SyntheticUser {
    /// The consent settings of a synthetic user: sharing on; regional sharing on when the user has a region.
    public var sharingSettings: P2PSettings {
        do {
            return try P2PSettings(
                joinPrivacyNetwork: true,
                shareAnonymousData: true,
                shareRegionalData: self.region != nil
            )
        } catch {
            preconditionFailure("default connection limit rejected: \(error)")
        }
    }

    /// The user's true wire values, derived by PrivacyCore from ``privacyReport`` and its anonymized summary.
    /// - Parameter now: the time of the summary (it does not affect the values).
    public func trueReportValues(now: Date = EpochSchedule.origin) -> TrueReportValues {
        let (report, summary) = self.anonymized(now: now)
        return TrueReportValues(report: report, summary: summary)
    }

    /// The user's own ``LocalProfile``, as their device derives it.
    public var localProfile: LocalProfile {
        let (report, summary) = self.anonymized(now: EpochSchedule.origin)
        return LocalProfile(report: report, summary: summary)
    }

    private func anonymized(now: Date) -> (PrivacyReport, AnonymousPrivacyData) {
        let report = self.privacyReport
        do {
            return (report, try anonymizeForP2P(report, settings: self.sharingSettings, now: now))
        } catch {
            // Synthetic reports are valid by construction.
            preconditionFailure("synthetic report broke the format: \(error)")
        }
    }
}
