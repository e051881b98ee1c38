import NIOCore
import TestSupport
import Testing

@testable import P2PCore

/// Returns `bytes` with one random mutation: flip a bit, drop a byte, insert a byte, or truncate.
private func mutate(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
    var bytes = bytes
    switch Int.random(in: 0..<4, using: &rng) {
    case 0 where !bytes.isEmpty:
        bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
    case 1 where !bytes.isEmpty:
        bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
    case 2:
        bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
    default:
        bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
    }
    return bytes
}

@Suite("Mutated peer input never traps")
struct MutatedInputTests {
    static let iterations = 2000

    @Test("Binary multiaddrs and peer IDs either fail cleanly or round-trip byte for byte")
    func binaryDecoders() {
        var rng = SplitMix64(seed: 1)
        let seeds = MultiaddrTests.roundTrips.map { hex($0.1) }
        var accepted = 0
        for _ in 0..<Self.iterations {
            let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let input = mutate(mutate(seed, using: &rng), using: &rng)
            if let address = try? Multiaddr(bytes: input) {
                accepted += 1
                #expect(address.bytes == input)
                #expect(Multiaddr(address.description) == address)
            }
            if let id = try? PeerID(bytes: input) {
                #expect(id.bytes == input)
            }
            _ = try? Multihash(bytes: input)
            _ = try? PublicKey(protobufEncoded: input)
            _ = try? PrivateKey(protobufEncoded: input)
            if var reader = try? ProtobufReader(input) {
                while (try? reader.next()) != nil {}
            }
        }
        // Some mutations (for example a changed port or address byte) keep the address valid.
        #expect(accepted > 0)
    }

    @Test("Text multiaddrs and peer IDs either fail cleanly or print back to an equal value")
    func textDecoders() {
        var rng = SplitMix64(seed: 2)
        let seeds = MultiaddrTests.roundTrips.map { Array($0.0.utf8) } + [Array(KeyVectors.ed25519PeerIDCID.utf8)]
        for _ in 0..<Self.iterations {
            let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let text = String(decoding: mutate(seed, using: &rng), as: UTF8.self)
            if let address = Multiaddr(text) {
                #expect(Multiaddr(address.description) == address)
            }
            if let id = PeerID(text) {
                #expect(PeerID(id.description) == id)
                #expect(PeerID(id.cidString) == id)
            }
        }
    }

    @Test("multistream-select machines survive mutated transcripts, drip-fed or whole")
    func multistreamMachines() {
        var rng = SplitMix64(seed: 3)
        let transcripts = [
            hex(MultistreamVectors.header + MultistreamVectors.noise),
            hex(MultistreamVectors.header + MultistreamVectors.na + MultistreamVectors.yamux),
            hex(MultistreamVectors.header + MultistreamVectors.ls + MultistreamVectors.kad),
        ]
        let supported = ["/noise", "/yamux/1.0.0"]
        for iteration in 0..<Self.iterations {
            let input = mutate(transcripts[iteration % transcripts.count], using: &rng)
            let roles: [MultistreamSelectRole] = [
                .dialer(proposing: ["/tls/1.0.0", "/noise"]), .listener(supporting: supported),
            ]
            for role in roles {
                var machine = MultistreamSelectStateMachine(role: role)
                _ = machine.start()
                let chunks = Bool.random(using: &rng) ? input.map { [$0] } : [input]
                for chunk in chunks {
                    if case .negotiated(let id, _, _) = machine.bytesReceived(ByteBuffer(bytes: chunk)) {
                        #expect(supported.contains(id) || id == "/tls/1.0.0")
                        break
                    }
                }
                _ = machine.isFinished ? nil : machine.inputClosed()
            }
        }
    }
}
