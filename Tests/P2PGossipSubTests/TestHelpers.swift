import NIOCore
import P2PCore
import P2PGossipSub

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
