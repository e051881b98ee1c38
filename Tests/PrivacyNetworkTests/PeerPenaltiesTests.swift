import NIOCore
import PrivacyCore
import Testing

@testable import PrivacyNetwork

@Suite("PeerPenalties: per-peer misbehaviour score")
struct PeerPenaltiesTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("Four malformed reports in a row disconnect and block the peer; others are untouched")
    func repeatedOffencesBlock() {
        var penalties = PeerPenalties<Int>()
        let malformed = PeerPenalties<Int>.Offence.invalidReport(.wrongSize(100))
        #expect(penalties.offence(malformed, by: 1, now: self.start) == .tolerate(score: 25))
        #expect(penalties.offence(malformed, by: 1, now: self.start) == .tolerate(score: 50))
        #expect(penalties.offence(malformed, by: 1, now: self.start) == .tolerate(score: 75))
        let until = self.start + .hours(1)
        #expect(penalties.offence(malformed, by: 1, now: self.start) == .disconnect(until: until))
        #expect(penalties.isBlocked(1, now: self.start + .minutes(59)))
        #expect(!penalties.isBlocked(1, now: until))
        #expect(!penalties.isBlocked(2, now: self.start))
        #expect(penalties.score(of: 2, now: self.start) == 0)
        // Late offences of a blocked peer change nothing.
        #expect(penalties.offence(malformed, by: 1, now: self.start + .minutes(1)) == .alreadyBlocked(until: until))
        // After the block the peer starts again from zero.
        #expect(penalties.offence(malformed, by: 1, now: until) == .tolerate(score: 25))
    }

    @Test("Scores halve every half-life, so occasional honest mistakes never add up")
    func decay() {
        var penalties = PeerPenalties<Int>()
        let late = PeerPenalties<Int>.Offence.invalidReport(.wrongEpoch(epoch: 7, current: 10))
        #expect(penalties.offence(late, by: 7, now: self.start) == .tolerate(score: 10))
        #expect(abs(penalties.score(of: 7, now: self.start + .minutes(10)) - 5) < 1e-9)
        #expect(abs(penalties.score(of: 7, now: self.start + .minutes(20)) - 2.5) < 1e-9)
        // One late report an hour for a day: never blocked.
        var now = self.start
        for _ in 0..<24 {
            now = now + .hours(1)
            guard case .tolerate(let score) = penalties.offence(late, by: 7, now: now) else {
                Issue.record("an hourly late report should be tolerated")
                return
            }
            #expect(score < 11)
        }
    }

    @Test("Offence weights: gross breaches weigh more than honest accidents; a failed stream is no offence")
    func weights() {
        typealias Offence = PeerPenalties<Int>.Offence
        #expect(Offence.badStream(.messageTooLarge).weight == 50)
        #expect(Offence.badStream(.malformedMessage).weight == 25)
        #expect(Offence.invalidReport(.tooLittleWork(leadingZeroBits: 0, required: 4)).weight == 25)
        #expect(Offence.gossipRuleBroken.weight == 25)
        #expect(Offence.badStream(.timedOut).weight == 10)
        #expect(Offence.invalidReport(.wrongEpoch(epoch: 1, current: 5)).weight == 10)
        #expect(Offence.invalidReport(.wrongEpoch(epoch: 12, current: 10)).weight == 10)
        // Just outside the window (two back: delayed across a boundary; one ahead: a clock slightly ahead) is no
        // offence: honest peers of a 10-second demo network send such reports every epoch.
        #expect(Offence.invalidReport(.wrongEpoch(epoch: 8, current: 10)).weight == 0)
        #expect(Offence.invalidReport(.wrongEpoch(epoch: 11, current: 10)).weight == 0)
        #expect(Offence.invalidReport(.wrongEpoch(epoch: 8, current: 10)).name == "wrong_epoch")
        #expect(Offence.badStream(.streamFailed).weight == 0)
        #expect(Offence.invalidReport(.wrongSize(3)).name == "wrong_size")
        #expect(Offence.badStream(.messageTooLarge).name == "message_too_large")
    }

    @Test("The number of tracked peers is bounded; blocked peers are kept")
    func capacity() {
        var penalties = PeerPenalties<Int>(configuration: .init(capacity: 3))
        let tooLarge = PeerPenalties<Int>.Offence.badStream(.messageTooLarge)
        _ = penalties.offence(tooLarge, by: 0, now: self.start)
        _ = penalties.offence(tooLarge, by: 0, now: self.start)  // blocked
        for peer in 1...10 {
            _ = penalties.offence(.badStream(.timedOut), by: peer, now: self.start)
        }
        #expect(penalties.trackedPeers == 3)
        #expect(penalties.isBlocked(0, now: self.start))
    }
}
