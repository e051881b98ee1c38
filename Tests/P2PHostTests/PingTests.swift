import TestSupport
import Testing

@testable import P2PHost

@Suite("Ping payloads")
struct PingTests {
    @Test("A payload is 32 bytes drawn from the injected generator")
    func payloadFromGenerator() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
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
