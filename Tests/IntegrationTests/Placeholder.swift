import Testing

@Test("IntegrationTests builds") func integrationTestsBuilds() { #expect(Bool(true)) }
