import Testing

@Test("P2PNoiseTests builds") func P2PNoiseTestsBuilds() { #expect(Bool(true)) }
