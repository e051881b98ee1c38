import CommunityInsights
import PrivacyCore
import Testing

@Suite("Report tally")
struct ReportTallyTests {
    @Test("Reports are counted per type and value; out-of-range values are rejected")
    func counting() {
        let tally = ReportTally([
            .score(decile: 3), .score(decile: 3), .score(decile: 12), .trackers(bucket: 5), .risk(bucket: 0),
            .category(.news), .regionGrade(region: .europe, grade: .b),
            .tool(.noScript, isAGrade: true, usesTool: false),
        ])
        #expect(tally.score[3] == 2)
        #expect(tally.rejected == 1)
        #expect(tally.count(of: .score) == 2)
        #expect(tally.trackers[5] == 1 && tally.risk[0] == 1 && tally.category[SiteCategory.news.index] == 1)
        #expect(tally.regionGrade[.europe]?[Grade.b.index] == 1)
        #expect(tally.tool[.noScript]?[2] == 1)
        #expect(tally.count(in: .europe) == 1 && tally.count(in: .asia) == 0)
        #expect(tally.count(of: ProtectionTool.noScript) == 1)
    }

    @Test("Merging tallies of two report sets equals tallying their union")
    func merging() {
        let first: [WireReport] = [
            .score(decile: 1), .regionGrade(region: .asia, grade: .a),
            .tool(.ghostery, isAGrade: false, usesTool: true),
        ]
        let second: [WireReport] = [.score(decile: 1), .regionGrade(region: .asia, grade: .c), .category(.games)]
        var merged = ReportTally(first)
        merged.merge(ReportTally(second))
        #expect(merged == ReportTally(first + second))
    }
}
