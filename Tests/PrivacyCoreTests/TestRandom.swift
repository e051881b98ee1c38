import Foundation
import PrivacyCore

/// SplitMix64: a small seeded generator so every randomized test is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A secret whose bytes are all `byte`.
func fixedSecret(_ byte: UInt8) -> RandomizerSecret {
    try! RandomizerSecret(bytes: [UInt8](repeating: byte, count: RandomizerSecret.byteCount))
}

/// Multiplies two square matrices.
func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = a.count
    return (0..<n).map { i in
        (0..<n).map { j in (0..<n).reduce(0) { $0 + a[i][$1] * b[$1][j] } }
    }
}

/// The largest privacy loss of a transition matrix: max over outputs y and inputs x, x' of
/// ln(M[x][y] / M[x'][y]).
func maximumLogRatio(_ matrix: [[Double]]) -> Double {
    var worst = 0.0
    for y in matrix.indices {
        let column = matrix.map { $0[y] }
        worst = max(worst, log(column.max()! / column.min()!))
    }
    return worst
}
