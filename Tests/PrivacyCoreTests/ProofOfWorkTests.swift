import Foundation
import PrivacyCore
import TestSupport
import Testing

@Suite("Proof of work")
struct ProofOfWorkTests {
    /// Cheap parameters for tests: N = 16, 6 bits of difficulty (about 64 scrypt calls per mint).
    static let cheap = try! NetworkParameters(
        label: "test",
        epochLengthSeconds: 600,
        difficultyBits: 6,
        scryptCostLog2: 4
    )
    static let envelope = try! ReportEnvelope(epoch: 100, report: .score(decile: 7))

    @Test("Leading zero bits are counted across bytes")
    func leadingZeroBits() {
        #expect(ProofOfWork.leadingZeroBits(of: [0x80]) == 0)
        #expect(ProofOfWork.leadingZeroBits(of: [0x01]) == 7)
        #expect(ProofOfWork.leadingZeroBits(of: [0x00, 0x40]) == 9)
        #expect(ProofOfWork.leadingZeroBits(of: [0x00, 0x00]) == 16)
    }

    @Test("A minted envelope verifies and is admitted in its epoch and the next")
    func mintAndVerify() throws {
        var rng = SplitMix64(seed: 11)
        let minted = try ProofOfWork.mint(Self.envelope, parameters: Self.cheap, using: &rng)
        #expect(ProofOfWork.verify(minted, parameters: Self.cheap))
        #expect(ProofOfWork.leadingZeroBits(of: ProofOfWork.work(for: minted, parameters: Self.cheap)) >= 6)
        try minted.validate(parameters: Self.cheap, currentEpoch: 100)
        try minted.validate(parameters: Self.cheap, currentEpoch: 101)
        #expect(throws: ReportAdmissionError.wrongEpoch(epoch: 100, current: 102)) {
            try minted.validate(parameters: Self.cheap, currentEpoch: 102)
        }
        #expect(throws: ReportAdmissionError.wrongEpoch(epoch: 100, current: 99)) {
            try minted.validate(parameters: Self.cheap, currentEpoch: 99)
        }
        // The work survives the wire.
        let decoded = try ReportEnvelope(decoding: minted.encode())
        #expect(ProofOfWork.verify(decoded, parameters: Self.cheap))
    }

    @Test("End to end: plan, envelope, mint, bytes, decode, admit")
    func endToEnd() throws {
        let json = PrivacyReport.exampleJSON.data(using: .utf8)!
        let report = try PrivacyReport(jsonData: json)
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, shareRegionalData: true)
        let now = EpochSchedule.origin.addingTimeInterval(600 * 3000 + 42)
        let summary = try anonymizeForP2P(report, settings: settings, now: now)
        var rng = SplitMix64(seed: 15)
        let epoch = try Self.cheap.schedule.epoch(containing: now)
        let plan = EpochPlan(
            epoch: epoch,
            schedule: Self.cheap.schedule,
            settings: settings,
            truth: TrueReportValues(report: report, summary: summary),
            secret: RandomizerSecret.generate(using: &rng),
            using: &rng
        )
        #expect(epoch == 3000)
        #expect(plan.entries.count == 2)
        for entry in plan.entries {
            let envelope = try ReportEnvelope(epoch: plan.epoch, report: entry.report)
            let bytes = try ProofOfWork.mint(envelope, parameters: Self.cheap, using: &rng).encode()
            #expect(bytes.count == ReportEnvelope.size)
            let received = try ReportEnvelope(decoding: bytes)
            try received.validate(parameters: Self.cheap, currentEpoch: epoch + 1)
            #expect(received.report == entry.report)
            #expect(received.epoch == epoch)
        }
    }

    @Test("Work is bound to the network parameters and to the envelope's content")
    func binding() throws {
        var rng = SplitMix64(seed: 12)
        let strict = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 600,
            difficultyBits: 10,
            scryptCostLog2: 4
        )
        let minted = try ProofOfWork.mint(Self.envelope, parameters: strict, using: &rng)
        #expect(ProofOfWork.verify(minted, parameters: strict))
        let otherLabel = try NetworkParameters(
            label: "demo",
            epochLengthSeconds: 600,
            difficultyBits: 10,
            scryptCostLog2: 4
        )
        let otherEpochs = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 660,
            difficultyBits: 10,
            scryptCostLog2: 4
        )
        #expect(!ProofOfWork.verify(minted, parameters: otherLabel))
        #expect(!ProofOfWork.verify(minted, parameters: otherEpochs))
        #expect(throws: ReportAdmissionError.self) { try minted.validate(parameters: otherLabel, currentEpoch: 100) }
        let tampered = try ReportEnvelope(epoch: minted.epoch, report: .score(decile: 0), nonce: minted.nonce)
        #expect(!ProofOfWork.verify(tampered, parameters: strict))
    }

    @Test("An envelope without work is refused with the number of bits found")
    func insufficientWork() throws {
        let strict = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 600,
            difficultyBits: 32,
            scryptCostLog2: 4
        )
        let bits = ProofOfWork.leadingZeroBits(of: ProofOfWork.work(for: Self.envelope, parameters: strict))
        #expect(throws: ReportAdmissionError.insufficientWork(leadingZeroBits: bits, required: 32)) {
            try Self.envelope.validate(parameters: strict, currentEpoch: 100)
        }
    }

    @Test("Minting stops when asked to, or after the allowed attempts")
    func interruptible() throws {
        var rng = SplitMix64(seed: 13)
        let impossible = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 600,
            difficultyBits: 32,
            scryptCostLog2: 4
        )
        var calls = 0
        #expect(throws: ProofOfWorkError.cancelled) {
            try ProofOfWork.mint(Self.envelope, parameters: impossible, using: &rng) {
                calls += 1
                return calls < 5
            }
        }
        #expect(calls == 5)
        #expect(throws: ProofOfWorkError.attemptsExhausted(3)) {
            try ProofOfWork.mint(Self.envelope, parameters: impossible, using: &rng, maximumAttempts: 3)
        }
    }

    @Test("The async mint observes task cancellation")
    func cancellation() async throws {
        let impossible = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 600,
            difficultyBits: 32,
            scryptCostLog2: 4
        )
        let task = Task {
            var rng = SplitMix64(seed: 14)
            return try await ProofOfWork.mint(Self.envelope, parameters: impossible, using: &rng)
        }
        task.cancel()
        let result = await task.result
        #expect(throws: ProofOfWorkError.cancelled) { try result.get() }
    }
}

@Suite("NetworkParameters")
struct NetworkParametersTests {
    @Test("The public network: weekly epochs, N = 2^12, default difficulty, label public")
    func publicNetwork() {
        let parameters = NetworkParameters.publicNetwork
        #expect(parameters.label == "public")
        #expect(parameters.schedule.lengthSeconds == 604_800)
        #expect(parameters.scryptCostLog2 == 12)
        #expect(parameters.difficultyBits == NetworkParameters.defaultDifficultyBits)
        #expect(parameters.isPublic)
        #expect(parameters.digest.count == 32)
        for type in ReportType.allCases {
            #expect(parameters.epsilon(of: type) == type.epsilon)
        }
    }

    @Test("Every parameter changes the digest")
    func digest() throws {
        let base = try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 8)
        let variants = [
            try NetworkParameters(label: "demo2", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 8),
            try NetworkParameters(label: "demo", epochLengthSeconds: 601, difficultyBits: 4, scryptCostLog2: 8),
            try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 5, scryptCostLog2: 8),
            try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 9),
        ]
        let digests = Set(([base] + variants).map(\.digest))
        #expect(digests.count == 5)
        #expect(!base.isPublic)
        #expect(
            try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 8).digest
                == base.digest
        )
    }

    @Test("Only demo- or test-labelled networks may have epochs shorter than a minute")
    func shortDemoEpochs() throws {
        let demo = try NetworkParameters(label: "demo", epochLengthSeconds: 10, difficultyBits: 4)
        #expect(demo.schedule.lengthSeconds == 10)
        #expect(demo.isDemoOrTest)
        #expect(demo.subPopulationEpochs == 6)
        #expect(try NetworkParameters(label: "test-sync", epochLengthSeconds: 5, difficultyBits: 4).isDemoOrTest)
        #expect(!NetworkParameters.publicNetwork.isDemoOrTest)
        #expect(NetworkParameters.publicNetwork.subPopulationEpochs == 4)
        #expect(throws: NetworkParametersError.epochLengthOutOfRange(10, demo: false)) {
            try NetworkParameters(label: "demonstration", epochLengthSeconds: 10, difficultyBits: 4)
        }
    }

    @Test("Invalid parameters are rejected")
    func invalid() {
        #expect(throws: NetworkParametersError.invalidLabel("")) {
            try NetworkParameters(label: "", epochLengthSeconds: 600, difficultyBits: 4)
        }
        #expect(throws: NetworkParametersError.invalidLabel("my net")) {
            try NetworkParameters(label: "my net", epochLengthSeconds: 600, difficultyBits: 4)
        }
        #expect(throws: NetworkParametersError.epochLengthOutOfRange(59, demo: false)) {
            try NetworkParameters(label: "staging", epochLengthSeconds: 59, difficultyBits: 4)
        }
        #expect(throws: NetworkParametersError.epochLengthOutOfRange(4, demo: true)) {
            try NetworkParameters(label: "demo", epochLengthSeconds: 4, difficultyBits: 4)
        }
        #expect(throws: NetworkParametersError.difficultyOutOfRange(33)) {
            try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 33)
        }
        #expect(throws: NetworkParametersError.scryptCostOutOfRange(0)) {
            try NetworkParameters(label: "demo", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 0)
        }
    }
}
