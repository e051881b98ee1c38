import Foundation
import PrivacyCore

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
