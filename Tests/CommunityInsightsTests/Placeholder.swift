import Testing

@Test("CommunityInsightsTests builds") func CommunityInsightsTestsBuilds() { #expect(Bool(true)) }
