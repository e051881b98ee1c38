import Testing

@Test("P2PYamuxTests builds") func P2PYamuxTestsBuilds() { #expect(Bool(true)) }
