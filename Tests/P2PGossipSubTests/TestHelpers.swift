import NIOCore
import P2PCore
import P2PGossipSub

/// A small deterministic generator (SplitMix64) so router tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fixed Ed25519 key whose seed is `n` repeated.
func fixedKey(_ n: UInt8) -> PrivateKey {
    try! PrivateKey(ed25519Seed: [UInt8](repeating: n, count: 32))
}

/// The peer ID of ``fixedKey(_:)``.
func fixedPeer(_ n: UInt8) -> PeerID {
    PeerID(publicKey: fixedKey(n).publicKey)
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") }
    var bytes: [UInt8] = []
    var index = 0
    while index + 1 < digits.count {
        bytes.append(UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)!)
        index += 2
    }
    return bytes
}

/// The code of the `GossipSubError` thrown by `body`, or `nil` when it does not throw one.
func errorCode(_ body: () throws -> Void) -> GossipSubError.Code? {
    do {
        try body()
        return nil
    } catch let error as GossipSubError {
        return error.code
    } catch {
        return nil
    }
}

/// A point on the router's clock, `seconds` after an arbitrary origin.
func at(_ seconds: Double) -> NIODeadline {
    .uptimeNanoseconds(1_000_000_000_000 + UInt64(seconds * 1_000_000_000))
}
