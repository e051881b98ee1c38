import Testing

@Test("P2PCoreTests builds") func P2PCoreTestsBuilds() { #expect(Bool(true)) }
