import PrivacyCore
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("ReportValidator") struct ReportValidatorTests {
    let parameters = TestReports.parameters

    @Test("A minted envelope of the current epoch is accepted with its SHA-256 content id")
    func acceptsCurrentEpoch() {
        var validator = ReportValidator(parameters: self.parameters)
        let envelope = TestReports.minted(epoch: 10)
        let bytes = envelope.encode()
        #expect(validator.validate(bytes, currentEpoch: 10) == .accept(envelope, id: ReportID(data: bytes)))
        #expect(ReportID(envelope) == ReportID(data: bytes))
        #expect(ReportID(data: bytes).bytes.count == 32)
    }

    @Test("A report of the previous epoch is accepted, one two epochs old or from the future is rejected")
    func epochWindow() {
        var validator = ReportValidator(parameters: self.parameters)
        #expect(validator.validate(TestReports.minted(epoch: 9).encode(), currentEpoch: 10).isAccept)
        #expect(
            validator.validate(TestReports.minted(epoch: 8).encode(), currentEpoch: 10)
                == .reject(.wrongEpoch(epoch: 8, current: 10))
        )
        #expect(
            validator.validate(TestReports.minted(epoch: 11).encode(), currentEpoch: 10)
                == .reject(.wrongEpoch(epoch: 11, current: 10))
        )
        #expect(validator.workVerifications == 1)
    }

    @Test("A report one epoch outside the window (two back, one ahead) is told apart from one further out")
    func nearEpochWindow() {
        #expect(ReportRejection.wrongEpoch(epoch: 8, current: 10).isNearEpochWindow)
        #expect(ReportRejection.wrongEpoch(epoch: 11, current: 10).isNearEpochWindow)
        #expect(!ReportRejection.wrongEpoch(epoch: 7, current: 10).isNearEpochWindow)
        #expect(!ReportRejection.wrongEpoch(epoch: 12, current: 10).isNearEpochWindow)
        #expect(ReportRejection.wrongEpoch(epoch: 1, current: 0).isNearEpochWindow)
        #expect(!ReportRejection.wrongEpoch(epoch: UInt32.max, current: 0).isNearEpochWindow)
        #expect(!ReportRejection.wrongSize(511).isNearEpochWindow)
    }

    @Test("A second copy is ignored as a duplicate without a second proof-of-work verification")
    func duplicateIgnoredWithoutWork() {
        var validator = ReportValidator(parameters: self.parameters)
        let bytes = TestReports.minted().encode()
        #expect(validator.validate(bytes, currentEpoch: 10).isAccept)
        #expect(validator.validate(bytes, currentEpoch: 10) == .ignore(duplicateOf: ReportID(data: bytes)))
        #expect(validator.workVerifications == 1)
    }

    @Test("Too little work is rejected, and the failure is cached by content id")
    func insufficientWorkCached() throws {
        var validator = ReportValidator(parameters: self.parameters)
        let bytes = TestReports.unworked().encode()
        let first = validator.validate(bytes, currentEpoch: 10)
        guard case .reject(.tooLittleWork(let bits, let required)) = first else {
            Issue.record("expected too little work, got \(first)")
            return
        }
        #expect(bits < required)
        #expect(required == 4)
        #expect(validator.validate(bytes, currentEpoch: 10) == first)
        #expect(validator.workVerifications == 1)
    }

    @Test("Work minted for another network's parameters is rejected as too little work")
    func otherNetworkWork() throws {
        var validator = ReportValidator(parameters: self.parameters)
        let other = try NetworkParameters(label: "other", epochLengthSeconds: 600, difficultyBits: 4, scryptCostLog2: 4)
        var rng = SplitMix64(seed: 5)
        var found: ReportEnvelope?
        // Find a report whose work passes `other` but fails ours.
        for seed in UInt64(0)..<64 where found == nil {
            var candidate = try ReportEnvelope(epoch: 10, report: .score(decile: 1), nonce: seed)
            candidate = try ProofOfWork.mint(candidate, parameters: other, using: &rng)
            if !ProofOfWork.verify(candidate, parameters: self.parameters) { found = candidate }
        }
        let envelope = try #require(found)
        guard case .reject(.tooLittleWork) = validator.validate(envelope.encode(), currentEpoch: 10) else {
            Issue.record("another network's report was not rejected for its work")
            return
        }
    }

    @Test("Wrong sizes are rejected before anything else", arguments: [0, 1, 511, 513, 4096])
    func wrongSize(count: Int) {
        var validator = ReportValidator(parameters: self.parameters)
        #expect(validator.validate([UInt8](repeating: 0, count: count), currentEpoch: 10) == .reject(.wrongSize(count)))
        #expect(validator.workVerifications == 0)
    }

    @Test("Malformed envelopes are rejected as malformed, with the decoder's reason")
    func malformed() {
        var validator = ReportValidator(parameters: self.parameters)
        let good = TestReports.minted().encode()
        var badMagic = good
        badMagic[0] = 0x58
        #expect(validator.validate(badMagic, currentEpoch: 10) == .reject(.malformed(.badMagic)))
        var badType = good
        badType[5] = 9
        #expect(validator.validate(badType, currentEpoch: 10) == .reject(.malformed(.unknownReportType(9))))
        var badValue = good
        badValue[7] = 10
        #expect(
            validator.validate(badValue, currentEpoch: 10)
                == .reject(.malformed(.valueOutOfDomain(field: "decile", value: 10)))
        )
        var badPadding = good
        badPadding[511] = 1
        #expect(validator.validate(badPadding, currentEpoch: 10) == .reject(.malformed(.nonZeroPadding(offset: 511))))
        #expect(validator.workVerifications == 0)
    }

    @Test("Another protocol version, randomizer or ε is rejected as wrong parameters")
    func wrongParameters() {
        var validator = ReportValidator(parameters: self.parameters)
        let good = TestReports.minted().encode()
        var version = good
        version[4] = 2
        #expect(validator.validate(version, currentEpoch: 10) == .reject(.wrongParameters(.unsupportedVersion(2))))
        var randomizer = good
        randomizer[6] = 7
        #expect(validator.validate(randomizer, currentEpoch: 10) == .reject(.wrongParameters(.unknownRandomizer(7))))
        var epsilon = good
        epsilon[11] = 0xE8 &+ 1
        guard case .reject(.wrongParameters(.epsilonMismatch)) = validator.validate(epsilon, currentEpoch: 10) else {
            Issue.record("a changed ε was not rejected as wrong parameters")
            return
        }
    }

    @Test("A report marked as our own is ignored when it comes back")
    func markAccepted() {
        var validator = ReportValidator(parameters: self.parameters)
        let bytes = TestReports.minted().encode()
        validator.markAccepted(ReportID(data: bytes))
        #expect(validator.hasAccepted(ReportID(data: bytes)))
        #expect(validator.validate(bytes, currentEpoch: 10) == .ignore(duplicateOf: ReportID(data: bytes)))
    }

    @Test("The duplicate cache is bounded: the oldest id is forgotten first")
    func boundedCache() {
        var validator = ReportValidator(parameters: self.parameters, cacheCapacity: 2)
        let reports = (1...3).map { TestReports.minted(seed: $0).encode() }
        for bytes in reports { #expect(validator.validate(bytes, currentEpoch: 10).isAccept) }
        #expect(!validator.hasAccepted(ReportID(data: reports[0])))
        #expect(validator.hasAccepted(ReportID(data: reports[2])))
        #expect(validator.validate(reports[0], currentEpoch: 10).isAccept)
    }

    @Test("The shared validator gives the same verdicts")
    func shared() {
        let validator = SharedReportValidator(parameters: self.parameters)
        let bytes = TestReports.minted().encode()
        #expect(validator.validate(bytes, currentEpoch: 10).isAccept)
        #expect(validator.validate(bytes, currentEpoch: 10) == .ignore(duplicateOf: ReportID(data: bytes)))
        #expect(
            validator.validate(TestReports.unworked().encode(), currentEpoch: 10).rejection?.name == "too_little_work"
        )
        #expect(validator.workVerifications == 2)
    }

    @Test("Validators sharing a work-verdict cache verify each report's work once; each still admits it once")
    func sharedWorkVerdicts() throws {
        let cache = WorkVerdictCache(parameters: self.parameters)
        let stem = SharedReportValidator(parameters: self.parameters, workVerdicts: cache)
        let gossip = SharedReportValidator(parameters: self.parameters, workVerdicts: cache)
        let good = TestReports.minted().encode()
        let bad = TestReports.unworked().encode()
        #expect(stem.validate(good, currentEpoch: 10).isAccept)
        #expect(gossip.validate(good, currentEpoch: 10).isAccept)
        #expect(gossip.validate(good, currentEpoch: 10) == .ignore(duplicateOf: ReportID(data: good)))
        let rejected = try #require(stem.validate(bad, currentEpoch: 10).rejection)
        #expect(gossip.validate(bad, currentEpoch: 10).rejection == rejected)
        #expect(rejected.name == "too_little_work")
        #expect(cache.workVerifications == 2)

        // Verdicts reached under other parameters are neither taken nor remembered.
        let stricter = try NetworkParameters(
            label: "test",
            epochLengthSeconds: 600,
            difficultyBits: 30,
            scryptCostLog2: 4
        )
        let envelope = try ReportEnvelope(decoding: good)
        let id = ReportID(data: good)
        #expect(cache.verifyWork(of: envelope, id: id, parameters: stricter)?.name == "too_little_work")
        #expect(cache.verifyWork(of: envelope, id: id, parameters: self.parameters) == nil)
        #expect(cache.workVerifications == 2)
    }
}

extension ReportVerdict {
    var isAccept: Bool {
        if case .accept = self { return true }
        return false
    }

    var rejection: ReportRejection? {
        if case .reject(let reason) = self { return reason }
        return nil
    }
}
