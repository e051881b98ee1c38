import Testing

@Test("P2PGossipSubTests builds") func p2pGossipSubTestsBuilds() { #expect(Bool(true)) }
