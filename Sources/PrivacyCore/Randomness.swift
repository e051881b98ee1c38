// Sampling primitives written out here (not taken from the standard library) so that the permanent
// randomized response, which is derived from a seed, stays the same across Swift versions: a changed
// permanent response would be a fresh draw and would weaken the lifetime bound.

extension RandomNumberGenerator {
    /// A uniform double in [0, 1): the top 53 bits of one 64-bit draw.
    mutating func nextUnitInterval() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` (`bound > 0`), by rejection sampling on 64-bit draws.
    mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "nextIndex(below:) needs a positive bound")
        let range = UInt64(bound)
        // 2^64 mod range: draws below this value would make the low residues more likely.
        let threshold = (0 &- range) % range
        while true {
            let draw = self.next()
            if draw >= threshold {
                return Int(draw % range)
            }
        }
    }
}

/// xoshiro256** (Blackman and Vigna), seeded from 32 bytes. Used only to expand an HMAC output into
/// the draws of a permanent randomized response; never for secrets.
struct DeterministicGenerator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the generator from the first 32 bytes of `seed` (little-endian words).
    init(seed: some Collection<UInt8>) {
        precondition(seed.count >= 32, "DeterministicGenerator needs a 32-byte seed")
        var words: [UInt64] = [0, 0, 0, 0]
        for (offset, byte) in seed.prefix(32).enumerated() {
            words[offset / 8] |= UInt64(byte) << (8 * UInt64(offset % 8))
        }
        self.init(words: (words[0], words[1], words[2], words[3]))
    }

    /// Seeds the generator from four 64-bit words.
    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = words
        if words == (0, 0, 0, 0) {
            // The all-zero state is a fixed point of xoshiro; any other constant will do.
            self.state.0 = 0x9E37_79B9_7F4A_7C15
        }
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(self.state.1 &* 5, by: 7) &* 9
        let shifted = self.state.1 << 17
        self.state.2 ^= self.state.0
        self.state.3 ^= self.state.1
        self.state.1 ^= self.state.2
        self.state.0 ^= self.state.3
        self.state.2 ^= shifted
        self.state.3 = rotateLeft(self.state.3, by: 45)
        return result
    }
}

private func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
}
