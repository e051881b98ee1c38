public import PrivacyCore

/// What proof of work costs an attacker who mints reports (privacy-design.md, "Envelope": admission): from a
/// measured time per scrypt call, the expected time to mint one accepted report (2^difficulty attempts on
/// average, the attempts being geometric) and how many reports one core mints per epoch.
public struct SybilCost: Hashable, Sendable, Codable {
    /// The network label the figures are for.
    public var network: String
    /// Required leading zero bits.
    public var difficultyBits: Int
    /// log2 of scrypt's N.
    public var scryptCostLog2: Int
    /// The epoch length in seconds.
    public var epochSeconds: Int64
    /// The scrypt calls timed.
    public var scryptSamples: Int
    /// The mean time of one scrypt call (= one verification), in milliseconds.
    public var scryptMilliseconds: Double
    /// The expected scrypt calls per accepted report: 2^difficulty.
    public var expectedAttemptsPerReport: Double
    /// The expected seconds of one core per accepted report.
    public var secondsPerReport: Double
    /// The accepted reports one core mints per epoch.
    public var reportsPerCorePerEpoch: Double
    /// The honest users one core can impersonate per epoch (each honest user sends 2 reports per epoch).
    public var usersImpersonatedPerCore: Double
    /// Full mints timed, if any, and their mean in seconds.
    public var mintSamples: Int
    /// The mean time of the timed mints (nil when none ran).
    public var meanMintSeconds: Double?

    /// The figures for `parameters` from a measured scrypt time.
    public init(
        parameters: NetworkParameters,
        scryptSamples: Int,
        scryptSeconds: Double,
        mintSamples: Int = 0,
        meanMintSeconds: Double? = nil
    ) {
        self.network = parameters.label
        self.difficultyBits = parameters.difficultyBits
        self.scryptCostLog2 = parameters.scryptCostLog2
        self.epochSeconds = parameters.schedule.lengthSeconds
        self.scryptSamples = scryptSamples
        self.scryptMilliseconds = scryptSeconds * 1000
        self.expectedAttemptsPerReport = Double(1 << UInt(parameters.difficultyBits))
        self.secondsPerReport = self.expectedAttemptsPerReport * scryptSeconds
        self.reportsPerCorePerEpoch = Double(parameters.schedule.lengthSeconds) / max(self.secondsPerReport, 1e-12)
        self.usersImpersonatedPerCore = self.reportsPerCorePerEpoch / 2
        self.mintSamples = mintSamples
        self.meanMintSeconds = meanMintSeconds
    }

    /// Times `scryptSamples` proof-of-work verifications (one scrypt call each) and `mintSamples` full mints on
    /// the calling thread with `clock`, and computes the figures.
    public static func measure(
        parameters: NetworkParameters,
        scryptSamples: Int,
        mintSamples: Int = 0,
        seed: UInt64 = 1,
        clock: some Clock<Duration> = ContinuousClock()
    ) -> SybilCost {
        var rng = SeededGenerator(seed: seed)
        let samples = max(1, scryptSamples)
        let envelopes = (0..<samples).map { index in
            try! ReportEnvelope(epoch: 1, report: .score(decile: index % 10), nonce: rng.next())
        }
        let scryptTime = clock.measure {
            for envelope in envelopes { _ = ProofOfWork.verify(envelope, parameters: parameters) }
        }
        var mintSeconds: Double?
        if mintSamples > 0 {
            let mintTime = clock.measure {
                for index in 0..<mintSamples {
                    let envelope = try! ReportEnvelope(epoch: 1, report: .score(decile: index % 10))
                    _ = try? ProofOfWork.mint(envelope, parameters: parameters, using: &rng)
                }
            }
            mintSeconds = Self.seconds(mintTime) / Double(mintSamples)
        }
        return SybilCost(
            parameters: parameters,
            scryptSamples: samples,
            scryptSeconds: Self.seconds(scryptTime) / Double(samples),
            mintSamples: mintSamples,
            meanMintSeconds: mintSeconds
        )
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
