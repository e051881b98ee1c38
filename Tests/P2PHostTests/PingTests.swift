import Testing

@testable import P2PHost

/// A deterministic generator (splitmix64) for payload tests.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Ping payloads")
struct PingTests {
    @Test("A payload is 32 bytes drawn from the injected generator")
    func payloadFromGenerator() {
        var first = SplitMix64(state: 42)
        var second = SplitMix64(state: 42)
        let payload = Ping.makePayload(using: &first)
        #expect(payload.count == Ping.payloadSize)
        #expect(payload.count == 32)
        #expect(payload == Ping.makePayload(using: &second))
        #expect(payload != Ping.makePayload(using: &first))
    }

    @Test("The protocol IDs are the spec's")
    func protocolIDs() {
        #expect(Ping.protocolID == "/ipfs/ping/1.0.0")
        #expect(Identify.protocolID == "/ipfs/id/1.0.0")
        #expect(ConnectionUpgrader.noiseProtocolID == "/noise")
        #expect(ConnectionUpgrader.yamuxProtocolID == "/yamux/1.0.0")
    }
}
