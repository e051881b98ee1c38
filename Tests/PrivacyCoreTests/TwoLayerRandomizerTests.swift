import Foundation
import TestSupport
import Testing

@testable import PrivacyCore

@Suite("Two-layer randomizer: exact matrices")
struct TwoLayerRandomizerMatrixTests {
    @Test("Each layer is a stochastic matrix of the stated GRR", arguments: ReportType.allCases)
    func layersAreStochastic(type: ReportType) {
        let randomizer = type.twoLayerRandomizer
        for layer in [randomizer.permanent, randomizer.instantaneous] {
            #expect(layer.domainSize == type.domainSize)
            for row in layer.transitionMatrix {
                #expect(abs(row.reduce(0, +) - 1) < 1e-12)
                #expect(row.allSatisfy { $0 > 0 })
            }
            // GRR's defining ratio: p / q = e^ε.
            #expect(abs(layer.p / layer.q - exp(layer.epsilon)) < 1e-9)
        }
    }

    @Test(
        "Permanent ∘ instantaneous is exactly GRR with the type's ε over its domain",
        arguments: ReportType.allCases
    )
    func compositeIsTheEffectiveGRR(type: ReportType) {
        let randomizer = type.twoLayerRandomizer
        let composite = multiply(
            randomizer.permanent.transitionMatrix,
            randomizer.instantaneous.transitionMatrix
        )
        let expected = type.randomizer.transitionMatrix
        for input in 0..<type.domainSize {
            for output in 0..<type.domainSize {
                #expect(abs(composite[input][output] - expected[input][output]) < 1e-12)
            }
        }
        // The composite's privacy loss per report is the table's ε, and no more.
        let loss = maximumLogRatio(composite)
        #expect(loss <= type.epsilon + 1e-9)
        #expect(loss >= type.epsilon - 1e-9)
        #expect(randomizer.effective == type.randomizer)
    }

    @Test(
        "The table's per-report ε: 2 for the score, 1 for every secondary type; ≤ 3 per epoch",
        arguments: ReportType.allCases
    )
    func perReportEpsilon(type: ReportType) {
        #expect(type.epsilon == (type == .score ? 2 : 1))
        let perEpoch = ReportType.score.epsilon + ReportType.allCases.filter { $0 != .score }.map(\.epsilon).max()!
        #expect(perEpoch <= 3)
    }

    @Test("The permanent layer bounds the lifetime loss: ε∞ ≤ 4", arguments: ReportType.allCases)
    func lifetimeBound(type: ReportType) {
        // Infinitely many reports about an unchanged value reveal at most the memoized response, whose
        // matrix is the permanent layer's.
        let permanent = type.twoLayerRandomizer.permanent.transitionMatrix
        #expect(maximumLogRatio(permanent) <= 4 + 1e-9)
        #expect(TwoLayerRandomizer.permanentEpsilon <= 4)
        // The instantaneous layer adds noise: it is less informative than the permanent one alone would be
        // if it were the only layer (its ε is finite and positive).
        let instantaneous = type.twoLayerRandomizer.instantaneous
        #expect(instantaneous.epsilon.isFinite && instantaneous.epsilon > 0)
    }
}

@Suite("Two-layer randomizer: behaviour")
struct TwoLayerRandomizerBehaviourTests {
    @Test("The permanent response is memoized per secret, type, question and value")
    func permanentIsMemoized() {
        let randomizer = ReportType.score.twoLayerRandomizer
        let secret = fixedSecret(7)
        for value in 0..<10 {
            let first = randomizer.permanentResponse(trueIndex: value, secret: secret)
            for _ in 0..<5 {
                #expect(randomizer.permanentResponse(trueIndex: value, secret: secret) == first)
            }
        }
    }

    @Test("Different secrets give different permanent responses for some value")
    func secretsMatter() {
        let randomizer = ReportType.category.twoLayerRandomizer
        var rng = SplitMix64(seed: 1)
        var outputs: Set<Int> = []
        for _ in 0..<200 {
            let secret = RandomizerSecret.generate(using: &rng)
            outputs.insert(randomizer.permanentResponse(trueIndex: 3, secret: secret))
        }
        // With p ≈ 0.83 the true value dominates, but other values appear across users.
        #expect(outputs.contains(3))
        #expect(outputs.count > 1)
    }

    @Test("Tool questions have independent permanent responses")
    func toolQuestionsDiffer() {
        let randomizer = ReportType.tool.twoLayerRandomizer
        var rng = SplitMix64(seed: 2)
        var differing = 0
        for _ in 0..<200 {
            let secret = RandomizerSecret.generate(using: &rng)
            let a = randomizer.permanentResponse(trueIndex: 1, question: 0, secret: secret)
            let b = randomizer.permanentResponse(trueIndex: 1, question: 5, secret: secret)
            if a != b { differing += 1 }
        }
        #expect(differing > 0)
    }

    @Test("Secrets must be exactly 32 bytes and never print their bytes")
    func secretValidation() {
        #expect(throws: RandomizerSecretError.wrongLength(31)) {
            try RandomizerSecret(bytes: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: RandomizerSecretError.wrongLength(33)) {
            try RandomizerSecret(bytes: [UInt8](repeating: 1, count: 33))
        }
        let secret = RandomizerSecret.generate()
        #expect(secret.bytes.count == 32)
        #expect("\(secret)" == "RandomizerSecret(redacted)")
        #expect(RandomizerSecret.generate() != secret)
    }
}

@Suite("Two-layer randomizer: empirical audit")
struct TwoLayerRandomizerAuditTests {
    /// Chi-square critical values at the 99.9% level, by degrees of freedom (k − 1).
    static let chiSquareCritical: [Int: Double] = [3: 16.266, 4: 18.467, 5: 20.515, 9: 27.877, 11: 31.264]

    /// Counts outputs per input, `samplesPerValue` times for every true value.
    static func sample(
        _ type: ReportType,
        samplesPerValue: Int,
        draw: (Int, inout SplitMix64) -> Int
    ) -> [[Int]] {
        let k = type.domainSize
        var rng = SplitMix64(seed: 0xA0D1 &+ UInt64(type.index))
        var counts = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for input in 0..<k {
            for _ in 0..<samplesPerValue {
                counts[input][draw(input, &rng)] += 1
            }
        }
        return counts
    }

    /// Checks every row against the exact effective matrix: χ² below the 99.9% critical value, and every
    /// cell within 5 standard errors of its exact probability.
    static func check(_ counts: [[Int]], type: ReportType) throws {
        let k = type.domainSize
        let critical = try #require(Self.chiSquareCritical[k - 1])
        let exact = type.randomizer.transitionMatrix
        for input in 0..<k {
            let n = Double(counts[input].reduce(0, +))
            var chiSquare = 0.0
            for output in 0..<k {
                let expected = n * exact[input][output]
                let observed = Double(counts[input][output])
                chiSquare += (observed - expected) * (observed - expected) / expected
                let tolerance = 5 * (exact[input][output] * (1 - exact[input][output]) / n).squareRoot()
                #expect(abs(observed / n - exact[input][output]) <= tolerance)
            }
            #expect(chiSquare < critical, "row \(input): χ² = \(chiSquare), df = \(k - 1)")
        }
        // Empirical privacy loss: for every output and pair of inputs, the estimated log-ratio stays below ε
        // plus 5 standard errors of that estimate (delta method: SE² ≈ (1 − p₁)/c₁ + (1 − p₂)/c₂).
        for output in 0..<k {
            for a in 0..<k {
                for b in 0..<k where a != b {
                    let ca = Double(counts[a][output])
                    let cb = Double(counts[b][output])
                    let pa = ca / Double(counts[a].reduce(0, +))
                    let pb = cb / Double(counts[b].reduce(0, +))
                    let standardError = ((1 - pa) / ca + (1 - pb) / cb).squareRoot()
                    #expect(log(pa / pb) <= type.epsilon + 5 * standardError)
                }
            }
        }
    }

    @Test(
        "10^6 seeded samples of permanent (fresh seed) then instantaneous agree with the exact effective matrix",
        arguments: ReportType.allCases
    )
    func audit(type: ReportType) throws {
        let randomizer = type.twoLayerRandomizer
        // Each sample has a fresh 32-byte permanent seed, standing in for a fresh HMAC output (another user).
        let counts = Self.sample(type, samplesPerValue: 1_000_000 / type.domainSize + 1) { input, rng in
            let seed = (rng.next(), rng.next(), rng.next(), rng.next())
            let permanent = randomizer.permanentResponse(trueIndex: input, seedWords: seed)
            return randomizer.instantaneousResponse(to: permanent, using: &rng)
        }
        #expect(counts.joined().reduce(0, +) >= 1_000_000)
        try Self.check(counts, type: type)
    }

    @Test(
        "End to end through HMAC: 24,000 users with fresh secrets agree with the exact matrix",
        arguments: ReportType.allCases
    )
    func auditThroughSecrets(type: ReportType) throws {
        let randomizer = type.twoLayerRandomizer
        let counts = Self.sample(type, samplesPerValue: 24_000 / type.domainSize) { input, rng in
            let secret = RandomizerSecret.generate(using: &rng)
            return randomizer.randomize(trueIndex: input, secret: secret, using: &rng)
        }
        try Self.check(counts, type: type)
    }
}

@Suite("Two-layer randomizer: stability")
struct TwoLayerRandomizerStabilityTests {
    /// Permanent responses for the secret 00 01 … 1f, computed by an independent Python implementation of
    /// the documented derivation (HMAC-SHA256 → xoshiro256** → GRR with ε = 4). A change here would give
    /// every user fresh permanent responses and break the lifetime bound, so it must be deliberate.
    static let vectors: [(ReportType, question: Int, responses: [Int])] = [
        (.score, 0, [0, 1, 1, 3, 4, 5, 0, 3, 8, 9]),
        (.trackers, 0, [0, 1, 2, 3, 4, 5]),
        (.risk, 0, [0, 1, 2, 3]),
        (.category, 0, [0, 1, 8, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        (.regionGrade, 0, [0, 0, 2, 3, 4]),
        (.tool, 3, [0, 3, 2, 3]),
    ]

    @Test("Permanent responses match the independently computed vectors")
    func vectors() throws {
        let secret = try RandomizerSecret(bytes: (0..<32).map { UInt8($0) })
        for (type, question, responses) in Self.vectors {
            let randomizer = type.twoLayerRandomizer
            let actual = (0..<type.domainSize).map {
                randomizer.permanentResponse(trueIndex: $0, question: question, secret: secret)
            }
            #expect(actual == responses, "\(type)")
        }
    }
}
