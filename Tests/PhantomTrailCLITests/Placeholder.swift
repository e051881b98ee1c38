import Testing

@Test("PhantomTrailCLITests builds") func PhantomTrailCLITestsBuilds() { #expect(Bool(true)) }
