import Testing

@Test("P2PHostTests builds") func p2pHostTestsBuilds() { #expect(Bool(true)) }
