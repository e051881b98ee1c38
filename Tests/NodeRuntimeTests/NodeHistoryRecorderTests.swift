import CommunityInsights
import Testing

@testable import NodeRuntime

@Suite("Node history recorder")
struct NodeHistoryRecorderTests {
    private static func estimate(_ value: Double) -> Displayed<Estimate> {
        .shown(Estimate(value: value, lower: value - 5, upper: value + 5, standardError: 2.5, supportingReports: 60))
    }

    @Test("The own score is written once per epoch, at the first comparison of the epoch")
    func ownScoreOncePerEpoch() {
        var recorder = NodeHistoryRecorder()
        let waiting = Displayed<Estimate>.needsMoreReports(have: 3, neededReports: 50)
        #expect(recorder.statisticsChanged(average: waiting, participants: 3, userScore: nil, epoch: 4).isEmpty)
        #expect(
            recorder.statisticsChanged(average: waiting, participants: 3, userScore: 71, epoch: 4) == [
                .ownScore(OwnScoreRecord(epoch: 4, score: 71))
            ]
        )
        #expect(recorder.statisticsChanged(average: waiting, participants: 4, userScore: 71, epoch: 4).isEmpty)
        #expect(
            recorder.statisticsChanged(average: waiting, participants: 1, userScore: 72, epoch: 5) == [
                .ownScore(OwnScoreRecord(epoch: 5, score: 72))
            ]
        )
        #expect(recorder.finish().isEmpty)
    }

    @Test(
        "An epoch's aggregate is written once, with its last shown estimate, when the next epoch starts or at the end"
    )
    func snapshotOncePerEpoch() {
        var recorder = NodeHistoryRecorder()
        #expect(
            recorder.statisticsChanged(average: Self.estimate(60), participants: 55, userScore: nil, epoch: 8).isEmpty
        )
        #expect(
            recorder.statisticsChanged(average: Self.estimate(62), participants: 58, userScore: nil, epoch: 8).isEmpty
        )
        let rollover = recorder.statisticsChanged(
            average: .needsMoreReports(have: 2, neededReports: 50),
            participants: 2,
            userScore: nil,
            epoch: 9
        )
        guard case .shown(let last) = Self.estimate(62) else { return }
        #expect(rollover == [.snapshot(AggregateSnapshot(epoch: 8, participants: 58, averageScore: last))])
        // Epoch 9 never showed an estimate: nothing is pending.
        #expect(recorder.finish().isEmpty)
        #expect(
            recorder.statisticsChanged(average: Self.estimate(64), participants: 51, userScore: nil, epoch: 10).isEmpty
        )
        guard case .shown(let final) = Self.estimate(64) else { return }
        #expect(recorder.finish() == [.snapshot(AggregateSnapshot(epoch: 10, participants: 51, averageScore: final))])
        #expect(recorder.finish().isEmpty)
    }
}
