import PrivacyCore
import Testing

@Suite("Vocabulary")
struct VocabularyTests {
    @Test(
        "Grades follow the plan's thresholds",
        arguments: [
            (100, Grade.a), (90, .a), (89, .b), (80, .b), (79, .c), (70, .c), (69, .d), (60, .d), (59, .f), (0, .f),
        ]
    )
    func gradeThresholds(score: Int, grade: Grade) {
        #expect(Grade(score: score) == grade)
    }

    @Test("Sensitive website categories fold into other")
    func sensitiveFolding() {
        for category in WebsiteCategory.allCases {
            let folded = SiteCategory(folding: category)
            if category.isSensitive {
                #expect(folded == .other)
            } else {
                #expect(folded.rawValue == category.rawValue)
            }
        }
        #expect(SiteCategory.allCases.count == 12)
        #expect(ProtectionTool.allCases.count <= 16)
        #expect(Region.allCases.count == 6)
    }
}
