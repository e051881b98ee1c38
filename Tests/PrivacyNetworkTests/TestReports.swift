import PrivacyCore
import PrivacyNetwork
import TestSupport

/// Minted envelopes for the tests: a cheap labelled network (scrypt N = 16, 4 bits of difficulty).
enum TestReports {
    static let parameters = try! NetworkParameters(
        label: "test",
        epochLengthSeconds: 600,
        difficultyBits: 4,
        scryptCostLog2: 4
    )

    /// A valid envelope of `epoch` for ``parameters``; `seed` varies the nonce (and so the content id).
    static func minted(epoch: UInt32 = 10, decile: Int = 3, seed: UInt64 = 1) -> ReportEnvelope {
        var rng = SplitMix64(seed: seed)
        let envelope = try! ReportEnvelope(epoch: epoch, report: .score(decile: decile))
        return try! ProofOfWork.mint(envelope, parameters: Self.parameters, using: &rng)
    }

    /// An envelope of `epoch` whose work fails ``parameters``' difficulty.
    static func unworked(epoch: UInt32 = 10, seed: UInt64 = 1) -> ReportEnvelope {
        var nonce = seed
        while true {
            let envelope = try! ReportEnvelope(epoch: epoch, report: .score(decile: 3), nonce: nonce)
            if !ProofOfWork.verify(envelope, parameters: Self.parameters) { return envelope }
            nonce &+= 1
        }
    }
}
