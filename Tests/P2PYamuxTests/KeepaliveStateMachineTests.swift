import NIOCore
import Testing

@testable import P2PYamux

@Suite("Keepalive state machine")
struct KeepaliveStateMachineTests {
    static let start = NIODeadline.uptimeNanoseconds(5_000_000_000)

    @Test("the first ping goes out with the first stream, not before, and its reply gives the round-trip time")
    func firstPingMeasuresRTT() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        #expect(machine.sessionStarted(now: Self.start) == .reschedule(at: Self.start + .seconds(30)))
        #expect(machine.sessionStarted(now: Self.start) == .doNothing)
        let opened = Self.start + .seconds(2)
        #expect(machine.streamOpened(now: opened) == .sendPing(opaque: 1, checkAgainAt: opened + .seconds(10)))
        // A second stream, before or after the reply, sends no ping of its own.
        #expect(machine.streamOpened(now: opened) == .doNothing)
        let replyAt = opened + .milliseconds(40)
        #expect(
            machine.pongReceived(opaque: 1, now: replyAt)
                == .roundTripMeasured(.milliseconds(40), checkAgainAt: replyAt + .seconds(30))
        )
        #expect(machine.streamOpened(now: replyAt) == .doNothing)
    }

    @Test("a session without streams is first pinged after the interval of silence, and later streams do not ping")
    func silentSessionPingedAfterInterval() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        _ = machine.sessionStarted(now: Self.start)
        #expect(machine.timerFired(now: Self.start + .seconds(29)) == .reschedule(at: Self.start + .seconds(30)))
        let due = Self.start + .seconds(30)
        #expect(machine.timerFired(now: due) == .sendPing(opaque: 1, checkAgainAt: due + .seconds(10)))
        #expect(machine.streamOpened(now: due) == .doNothing)
        _ = machine.pongReceived(opaque: 1, now: due)
        #expect(machine.streamOpened(now: due + .seconds(1)) == .doNothing)
    }

    @Test("a reply with the wrong opaque value is ignored")
    func stalePong() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        _ = machine.sessionStarted(now: Self.start)
        _ = machine.streamOpened(now: Self.start)
        #expect(machine.pongReceived(opaque: 2, now: Self.start) == .doNothing)
    }

    @Test("an idle session is pinged after the interval; activity postpones the ping")
    func idlePing() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        _ = machine.sessionStarted(now: Self.start)
        _ = machine.streamOpened(now: Self.start)
        _ = machine.pongReceived(opaque: 1, now: Self.start)
        machine.frameReceived(now: Self.start + .seconds(20))
        #expect(
            machine.timerFired(now: Self.start + .seconds(30)) == .reschedule(at: Self.start + .seconds(50))
        )
        let later = Self.start + .seconds(50)
        #expect(machine.timerFired(now: later) == .sendPing(opaque: 2, checkAgainAt: later + .seconds(10)))
    }

    @Test("a peer that never answers is closed after the timeout, and only then")
    func deadPeer() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        _ = machine.sessionStarted(now: Self.start)
        _ = machine.streamOpened(now: Self.start)
        // Data from the peer does not replace the missing pong.
        machine.frameReceived(now: Self.start + .seconds(5))
        #expect(machine.timerFired(now: Self.start + .seconds(9)) == .reschedule(at: Self.start + .seconds(10)))
        #expect(machine.timerFired(now: Self.start + .seconds(10)) == .closeConnection)
        #expect(machine.timerFired(now: Self.start + .seconds(11)) == .doNothing)
    }

    @Test("after the session ends the timer does nothing")
    func ended() {
        var machine = KeepaliveStateMachine(interval: .seconds(30), timeout: .seconds(10))
        _ = machine.sessionStarted(now: Self.start)
        machine.sessionEnded()
        #expect(machine.timerFired(now: Self.start + .seconds(60)) == .doNothing)
        #expect(machine.pongReceived(opaque: 1, now: Self.start) == .doNothing)
    }
}
