import NIOCore
import Testing

@testable import P2PYamux

@Suite("Yamux session state machine")
struct YamuxSessionStateMachineTests {
    typealias Machine = YamuxSessionStateMachine
    typealias Effects = YamuxSessionStateMachine.StreamEffects

    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let window = YamuxConfiguration.initialStreamWindow

    static func effects(_ build: (inout Effects) -> Void) -> Effects {
        var effects = Effects()
        build(&effects)
        return effects
    }

    static func code(_ action: Machine.FrameReceivedAction) -> (YamuxGoAwayCode?, YamuxError.Code)? {
        switch action {
        case .closeSession(let goAway, let error): return (goAway, error.code)
        default: return nil
        }
    }

    @Test("the client opens odd stream IDs and the server even ones")
    func streamIDParity() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        #expect(try client.openStream(now: Self.start).get() == 1)
        #expect(try client.openStream(now: Self.start).get() == 3)
        #expect(try server.openStream(now: Self.start).get() == 2)
        #expect(try server.openStream(now: Self.start).get() == 4)
    }

    @Test("a SYN from the peer opens a stream and its data is delivered")
    func acceptWithData() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        let action = server.frameReceived(.data(streamID: 1, flags: .syn, length: 100), now: Self.start)
        #expect(
            action
                == .stream(
                    id: 1,
                    Self.effects {
                        $0.opened = true
                        $0.deliverData = true
                    }
                )
        )
        #expect(server.hasStream(1))
        #expect(server.bufferedBytes == 100)
    }

    @Test("a SYN with our own parity, for stream 0, or for a live stream closes the session with protocol error")
    func badStreamIDs() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        let wrongParity = server.frameReceived(.windowUpdate(streamID: 2, flags: .syn), now: Self.start)
        #expect(Self.code(wrongParity)! == (.protocolError, .invalidStreamID))

        var server2 = Machine(role: .server, configuration: YamuxConfiguration())
        let zero = server2.frameReceived(.windowUpdate(streamID: 0, flags: .syn), now: Self.start)
        #expect(Self.code(zero)! == (.protocolError, .invalidStreamID))

        var server3 = Machine(role: .server, configuration: YamuxConfiguration())
        _ = server3.frameReceived(.windowUpdate(streamID: 1, flags: .syn), now: Self.start)
        let duplicate = server3.frameReceived(.windowUpdate(streamID: 1, flags: .syn), now: Self.start)
        #expect(Self.code(duplicate)! == (.protocolError, .invalidStreamID))
    }

    @Test("the first ACK acknowledges an outbound stream; a duplicate ACK is ignored")
    func acknowledgement() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        let first = client.frameReceived(.windowUpdate(streamID: id, flags: .ack), now: Self.start)
        #expect(first == .stream(id: id, Self.effects { $0.acknowledged = true }))
        let second = client.frameReceived(.windowUpdate(streamID: id, flags: .ack), now: Self.start)
        #expect(second == .stream(id: id, Effects()))
    }

    @Test("at most the unacknowledged-stream backlog may wait for ACK")
    func ackBacklog() throws {
        var configuration = YamuxConfiguration()
        configuration.maximumUnacknowledgedStreams = 2
        var client = Machine(role: .client, configuration: configuration)
        let first = try client.openStream(now: Self.start).get()
        _ = try client.openStream(now: Self.start).get()
        #expect(throws: YamuxError(code: .tooManyUnacknowledgedStreams, message: "")) {
            try client.openStream(now: Self.start).get()
        }
        _ = client.frameReceived(.windowUpdate(streamID: first, flags: .ack), now: Self.start)
        #expect(try client.openStream(now: Self.start).get() == 5)
    }

    @Test("data beyond the 256 KiB receive window closes the session with protocol error")
    func windowViolation() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        let fits = server.frameReceived(.data(streamID: 1, flags: .syn, length: UInt32(Self.window)), now: Self.start)
        #expect(
            fits
                == .stream(
                    id: 1,
                    Self.effects {
                        $0.opened = true
                        $0.deliverData = true
                    }
                )
        )
        let over = server.frameReceived(.data(streamID: 1, length: 1), now: Self.start)
        #expect(Self.code(over)! == (.protocolError, .receiveWindowExceeded))
    }

    @Test("window updates add to the send window, which limits what may be sent")
    func sendWindow() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        #expect(client.reserveSendWindow(streamID: id, upTo: 300_000) == Self.window)
        #expect(client.reserveSendWindow(streamID: id, upTo: 1) == 0)
        let update = client.frameReceived(.windowUpdate(streamID: id, delta: 1000), now: Self.start)
        #expect(update == .stream(id: id, Self.effects { $0.sendWindowIncreased = true }))
        #expect(client.reserveSendWindow(streamID: id, upTo: 5000) == 1000)
    }

    @Test("a window update past 2^32-1 closes the session")
    func sendWindowOverflow() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        let action = client.frameReceived(.windowUpdate(streamID: id, delta: UInt32.max), now: Self.start)
        #expect(Self.code(action)! == (.protocolError, .sendWindowOverflow))
    }

    @Test("a window update is sent once half of the window was consumed, in one batch")
    func batchedWindowUpdates() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        _ = server.frameReceived(.data(streamID: 1, flags: .syn, length: 100_000), now: Self.start)
        #expect(server.bytesConsumed(streamID: 1, count: 100_000, now: Self.start) == .doNothing)
        _ = server.frameReceived(.data(streamID: 1, length: 50_000), now: Self.start)
        #expect(server.bytesConsumed(streamID: 1, count: 50_000, now: Self.start) == .sendWindowUpdate(delta: 150_000))
        #expect(server.bufferedBytes == 0)
        // The peer may now send a full window again.
        let full = server.frameReceived(.data(streamID: 1, length: UInt32(Self.window)), now: Self.start)
        #expect(full == .stream(id: 1, Self.effects { $0.deliverData = true }))
    }

    @Test("a reader faster than four round trips doubles its window up to the maximum")
    func autoTuningGrows() {
        var configuration = YamuxConfiguration()
        configuration.maximumStreamWindow = 1024 * 1024
        var server = Machine(role: .server, configuration: configuration)
        server.roundTripTimeMeasured(.milliseconds(10))
        var now = Self.start
        _ = server.frameReceived(.windowUpdate(streamID: 1, flags: .syn), now: now)
        var windows: [Int] = []
        for _ in 0..<5 {
            let window = server.receiveWindow(of: 1)!
            _ = server.frameReceived(.data(streamID: 1, length: UInt32(window)), now: now)
            now = now + .milliseconds(5)
            guard case .sendWindowUpdate(let delta) = server.bytesConsumed(streamID: 1, count: window, now: now) else {
                Issue.record("expected a window update")
                return
            }
            #expect(Int(delta) == server.receiveWindow(of: 1)!)
            windows.append(server.receiveWindow(of: 1)!)
        }
        #expect(windows == [512 * 1024, 1024 * 1024, 1024 * 1024, 1024 * 1024, 1024 * 1024])
    }

    @Test("a slow reader, or no known round-trip time, keeps the 256 KiB window")
    func autoTuningNeedsFastReader() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        _ = server.frameReceived(.data(streamID: 1, flags: .syn, length: UInt32(Self.window)), now: Self.start)
        #expect(
            server.bytesConsumed(streamID: 1, count: Self.window, now: Self.start) == .sendWindowUpdate(delta: 262_144)
        )
        #expect(server.receiveWindow(of: 1) == Self.window)

        server.roundTripTimeMeasured(.milliseconds(10))
        _ = server.frameReceived(.data(streamID: 1, length: UInt32(Self.window)), now: Self.start)
        let late = Self.start + .milliseconds(41)
        #expect(server.bytesConsumed(streamID: 1, count: Self.window, now: late) == .sendWindowUpdate(delta: 262_144))
        #expect(server.receiveWindow(of: 1) == Self.window)
    }

    @Test("window growth stops at the session's buffered-bytes budget")
    func autoTuningBudget() {
        var configuration = YamuxConfiguration()
        configuration.maximumBufferedBytes = Self.window + 100_000
        var server = Machine(role: .server, configuration: configuration)
        server.roundTripTimeMeasured(.milliseconds(10))
        _ = server.frameReceived(.data(streamID: 1, flags: .syn, length: UInt32(Self.window)), now: Self.start)
        let action = server.bytesConsumed(streamID: 1, count: Self.window, now: Self.start + .milliseconds(1))
        #expect(action == .sendWindowUpdate(delta: UInt32(Self.window + 100_000)))
        #expect(server.receiveWindow(of: 1) == Self.window + 100_000)
    }

    @Test("FIN both ways finishes the stream; data after the peer's FIN resets it")
    func halfClose() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        #expect(client.closeOutput(streamID: id) == .sendFin(finished: false))
        #expect(client.closeOutput(streamID: id) == .doNothing)
        #expect(client.reserveSendWindow(streamID: id, upTo: 10) == 0)
        let fin = client.frameReceived(.data(streamID: id, flags: [.ack, .fin], length: 5), now: Self.start)
        #expect(
            fin
                == .stream(
                    id: id,
                    Self.effects {
                        $0.acknowledged = true
                        $0.deliverData = true
                        $0.inputClosed = true
                        $0.finished = true
                    }
                )
        )
        #expect(!client.hasStream(id))

        let other = try client.openStream(now: Self.start).get()
        _ = client.frameReceived(.windowUpdate(streamID: other, flags: .fin), now: Self.start)
        let afterFin = client.frameReceived(.data(streamID: other, length: 3), now: Self.start)
        guard case .resetStream(other, let error) = afterFin else {
            Issue.record("expected a reset, got \(afterFin)")
            return
        }
        #expect(error.code == .dataAfterFin)
        #expect(!client.hasStream(other))
    }

    @Test("a window update after our FIN is tolerated")
    func lateWindowUpdate() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        _ = client.closeOutput(streamID: id)
        let update = client.frameReceived(.windowUpdate(streamID: id, delta: 100), now: Self.start)
        #expect(update == .stream(id: id, Effects()))
    }

    @Test("RST from the peer removes the stream; later frames for it are ignored")
    func peerReset() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        let reset = client.frameReceived(.windowUpdate(streamID: id, flags: .rst), now: Self.start)
        #expect(
            reset
                == .stream(
                    id: id,
                    Self.effects {
                        $0.reset = true
                        $0.finished = true
                    }
                )
        )
        #expect(client.frameReceived(.data(streamID: id, length: 10), now: Self.start) == .doNothing)
        #expect(client.resetStream(streamID: id) == .doNothing)
    }

    @Test("a local reset sends RST once and forgets the stream")
    func localReset() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        #expect(client.resetStream(streamID: id) == .sendReset)
        #expect(client.resetStream(streamID: id) == .doNothing)
        #expect(client.streamCount == 0)
    }

    @Test("a SYN beyond the stream limit is refused with RST, and so is a local open")
    func tooManyStreams() throws {
        var configuration = YamuxConfiguration()
        configuration.maximumConcurrentStreams = 2
        var server = Machine(role: .server, configuration: configuration)
        _ = server.frameReceived(.windowUpdate(streamID: 1, flags: .syn), now: Self.start)
        _ = server.frameReceived(.windowUpdate(streamID: 3, flags: .syn), now: Self.start)
        let third = server.frameReceived(.data(streamID: 5, flags: .syn, length: 10), now: Self.start)
        guard case .refuseStream(5, let error) = third else {
            Issue.record("expected a refusal, got \(third)")
            return
        }
        #expect(error.code == .tooManyStreams)
        #expect(throws: YamuxError(code: .tooManyStreams, message: "")) {
            try server.openStream(now: Self.start).get()
        }
        // Finishing a stream frees a slot.
        _ = server.frameReceived(.windowUpdate(streamID: 1, flags: .rst), now: Self.start)
        #expect(try server.openStream(now: Self.start).get() == 2)
    }

    @Test("a normal Go Away from the peer stops new streams; an error code closes the session")
    func goAwayReceived() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        #expect(client.frameReceived(.goAway(.normal), now: Self.start) == .peerGoingAway)
        #expect(throws: YamuxError(code: .sessionClosed, message: "")) {
            try client.openStream(now: Self.start).get()
        }
        // Existing streams continue.
        #expect(client.frameReceived(.data(streamID: id, length: 4), now: Self.start) != .doNothing)

        var other = Machine(role: .client, configuration: YamuxConfiguration())
        let action = other.frameReceived(.goAway(.protocolError), now: Self.start)
        #expect(Self.code(action)! == (nil, .goAwayReceived))
    }

    @Test("after we send Go Away, inbound SYNs are refused and Go Away is sent only once")
    func goAwaySent() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        #expect(server.goAway() == .sendGoAway(.normal))
        #expect(server.goAway() == .doNothing)
        let syn = server.frameReceived(.windowUpdate(streamID: 1, flags: .syn), now: Self.start)
        guard case .refuseStream(1, let error) = syn else {
            Issue.record("expected a refusal, got \(syn)")
            return
        }
        #expect(error.code == .sessionClosed)
    }

    @Test("a ping request is answered with the same opaque value; a reply is reported")
    func ping() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        #expect(server.frameReceived(.ping(opaque: 99, ack: false), now: Self.start) == .sendPingReply(opaque: 99))
        #expect(server.frameReceived(.ping(opaque: 7, ack: true), now: Self.start) == .pingReplyReceived(opaque: 7))
    }

    @Test("data that would push the session over its buffered-bytes cap resets that stream")
    func bufferedBytesCap() {
        var configuration = YamuxConfiguration()
        configuration.maximumBufferedBytes = 300_000
        var server = Machine(role: .server, configuration: configuration)
        _ = server.frameReceived(.data(streamID: 1, flags: .syn, length: 200_000), now: Self.start)
        let second = server.frameReceived(.data(streamID: 3, flags: .syn, length: 200_000), now: Self.start)
        guard case .resetStream(3, let error) = second else {
            Issue.record("expected a reset, got \(second)")
            return
        }
        #expect(error.code == .bufferedBytesLimitExceeded)
        #expect(server.bufferedBytes == 200_000)
        _ = server.bytesConsumed(streamID: 1, count: 200_000, now: Self.start)
        #expect(server.bufferedBytes == 0)
        let third = server.frameReceived(.data(streamID: 5, flags: .syn, length: 200_000), now: Self.start)
        #expect(
            third
                == .stream(
                    id: 5,
                    Self.effects {
                        $0.opened = true
                        $0.deliverData = true
                    }
                )
        )
    }

    @Test("after the reader closes, data is dropped and its window handed back")
    func discardAfterReaderClosed() {
        var server = Machine(role: .server, configuration: YamuxConfiguration())
        _ = server.frameReceived(.data(streamID: 1, flags: .syn, length: 1000), now: Self.start)
        #expect(server.readerClosed(streamID: 1) == false)
        #expect(server.bufferedBytes == 0)
        let drop = server.frameReceived(.data(streamID: 1, length: 200_000), now: Self.start)
        #expect(drop == .stream(id: 1, Self.effects { $0.windowUpdate = 201_000 }))
        #expect(server.closeOutput(streamID: 1) == .sendFin(finished: false))
        let fin = server.frameReceived(.windowUpdate(streamID: 1, flags: .fin), now: Self.start)
        #expect(
            fin
                == .stream(
                    id: 1,
                    Self.effects {
                        $0.inputClosed = true
                        $0.finished = true
                    }
                )
        )
        #expect(server.streamCount == 0)
    }

    @Test("after the session closes every frame is ignored and live streams are reported")
    func sessionClosed() throws {
        var client = Machine(role: .client, configuration: YamuxConfiguration())
        let id = try client.openStream(now: Self.start).get()
        #expect(client.sessionClosed() == [id])
        #expect(client.frameReceived(.ping(opaque: 1, ack: false), now: Self.start) == .doNothing)
        #expect(throws: YamuxError(code: .sessionClosed, message: "")) {
            try client.openStream(now: Self.start).get()
        }
    }

    @Test("a larger initial receive window is announced with SYN/ACK and enforced")
    func largerInitialWindow() {
        var configuration = YamuxConfiguration()
        configuration.initialReceiveWindow = 1024 * 1024
        var server = Machine(role: .server, configuration: configuration)
        #expect(server.initialWindowDelta == 768 * 1024)
        let first = server.frameReceived(.data(streamID: 1, flags: .syn, length: 1024 * 1024), now: Self.start)
        #expect(
            first
                == .stream(
                    id: 1,
                    Self.effects {
                        $0.opened = true
                        $0.deliverData = true
                    }
                )
        )
        let over = server.frameReceived(.data(streamID: 1, length: 1), now: Self.start)
        #expect(Self.code(over)! == (.protocolError, .receiveWindowExceeded))
    }
}
