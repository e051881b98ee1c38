// Session rules: https://github.com/libp2p/specs/blob/master/yamux/README.md
// and https://github.com/hashicorp/yamux/blob/master/spec.md.

package import NIOCore

/// The protocol rules of one Yamux session: the stream registry, stream-ID parity, SYN/ACK/FIN/RST handling,
/// flow-control accounting, limits, Ping and Go Away.
///
/// Pure: it sees headers, never bytes or channels, and returns what the handler must do. Errors scoped to one
/// stream become ``FrameReceivedAction/resetStream(id:error:)``; errors that break the session become
/// ``FrameReceivedAction/closeSession(goAway:error:)`` (Go Away with protocol error 1, as go-yamux and
/// rust-yamux do for a window violation or a bad stream ID).
package struct YamuxSessionStateMachine {
    /// Whether the session still takes new streams.
    private enum State {
        /// Streams may be opened both ways.
        case active
        /// One or both sides sent Go Away: existing streams finish, no new ones.
        case goingAway(sent: Bool, received: Bool)
        /// The session is over.
        case closed
    }

    /// Effects of a stream frame on a stream the handler knows (or is about to create).
    package struct StreamEffects: Equatable, Sendable {
        /// The peer opened this stream and we accepted it: create its channel and send ACK (a Window Update
        /// carrying ``YamuxSessionStateMachine/initialWindowDelta``).
        package var opened = false
        /// The peer acknowledged our outbound stream.
        package var acknowledged = false
        /// Deliver the Data payload to the stream's reader.
        package var deliverData = false
        /// Send a window update with this delta (non-zero), because the payload was discarded.
        package var windowUpdate: UInt32 = 0
        /// Our send window grew: pending writes may proceed.
        package var sendWindowIncreased = false
        /// The peer sent FIN.
        package var inputClosed = false
        /// The peer sent RST: fail the stream.
        package var reset = false
        /// Both sides are done (or the stream was reset): forget the stream.
        package var finished = false

        /// No effect at all.
        package init() {}
    }

    /// What to do after a frame arrived.
    package enum FrameReceivedAction: Equatable, Sendable {
        /// Nothing (for example a late frame for a forgotten stream).
        case doNothing
        /// Apply ``StreamEffects`` to stream `id`.
        case stream(id: UInt32, StreamEffects)
        /// Refuse a stream the peer tried to open: send RST, drop its payload.
        case refuseStream(id: UInt32, error: YamuxError)
        /// A stream-scoped violation on a live stream: send RST and fail the stream with `error`.
        case resetStream(id: UInt32, error: YamuxError)
        /// Answer a ping with an ACK carrying the same opaque value.
        case sendPingReply(opaque: UInt32)
        /// The peer answered our ping.
        case pingReplyReceived(opaque: UInt32)
        /// The peer sent a normal Go Away: open no more streams, let existing ones finish.
        case peerGoingAway
        /// Close the session, first sending Go Away with this code when it is not `nil`.
        case closeSession(goAway: YamuxGoAwayCode?, error: YamuxError)
    }

    /// What to do when the local side closes its direction of a stream.
    package enum CloseOutputAction: Equatable, Sendable {
        /// Send a FIN; `finished` says whether the stream is now done.
        case sendFin(finished: Bool)
        /// The stream is unknown or already half-closed: nothing to send.
        case doNothing
    }

    /// What to do when the local side resets a stream.
    package enum ResetStreamAction: Equatable, Sendable {
        /// Send RST for the stream.
        case sendReset
        /// The stream is unknown: nothing to send.
        case doNothing
    }

    /// What to do after our reader consumed bytes.
    package enum BytesConsumedAction: Equatable, Sendable {
        /// Send a window update.
        case sendWindowUpdate(delta: UInt32)
        /// Nothing yet.
        case doNothing
    }

    /// What to do when the local side asks the session to go away.
    package enum GoAwayAction: Equatable, Sendable {
        /// Send Go Away with this code.
        case sendGoAway(YamuxGoAwayCode)
        /// Already sent, or closed.
        case doNothing
    }

    private var state: State = .active
    private var streams: [UInt32: YamuxStreamStateMachine] = [:]
    private var nextLocalStreamID: UInt32
    private var unacknowledgedStreams = 0
    /// Sum of receive windows granted on live streams.
    private var grantedReceiveWindow = 0
    /// Sum of bytes delivered to readers and not yet consumed.
    private(set) var bufferedBytes = 0
    /// The largest receive window any stream reached (statistics: shows auto-tuning at work).
    package private(set) var largestReceiveWindow = YamuxConfiguration.initialStreamWindow
    /// The latest measured ping round-trip time, for auto-tuning.
    private(set) var roundTripTime: TimeAmount?

    /// Our role.
    package let role: YamuxRole
    private let maximumConcurrentStreams: Int
    private let maximumUnacknowledgedStreams: Int
    private let maximumStreamWindow: Int
    private let initialReceiveWindow: Int

    /// The window delta to send with SYN and ACK: how far our initial receive window exceeds the spec's 256 KiB.
    package var initialWindowDelta: UInt32 {
        UInt32(self.initialReceiveWindow - YamuxConfiguration.initialStreamWindow)
    }
    private let maximumBufferedBytes: Int

    /// Makes a session machine for `role` with the limits of `configuration`.
    package init(role: YamuxRole, configuration: YamuxConfiguration) {
        self.role = role
        self.nextLocalStreamID = role == .client ? 1 : 2
        self.maximumConcurrentStreams = configuration.maximumConcurrentStreams
        self.maximumUnacknowledgedStreams = configuration.maximumUnacknowledgedStreams
        self.initialReceiveWindow = min(
            max(configuration.initialReceiveWindow, YamuxConfiguration.initialStreamWindow),
            Int(UInt32.max)
        )
        self.maximumStreamWindow = max(configuration.maximumStreamWindow, self.initialReceiveWindow)
        self.largestReceiveWindow = self.initialReceiveWindow
        self.maximumBufferedBytes = configuration.maximumBufferedBytes
    }

    /// Number of live streams.
    package var streamCount: Int { self.streams.count }

    /// Whether a live stream with this ID exists.
    package func hasStream(_ id: UInt32) -> Bool { self.streams[id] != nil }

    /// The current receive window of a stream (for tests and diagnostics).
    package func receiveWindow(of id: UInt32) -> Int? { self.streams[id]?.receiveWindow }

    /// The current send window of a stream.
    package func sendWindow(of id: UInt32) -> Int? { self.streams[id]?.sendWindow }

    /// Whether new streams may be opened locally.
    package var canOpenStreams: Bool {
        if case .active = self.state { return true }
        return false
    }

    private func isRemoteStreamID(_ id: UInt32) -> Bool {
        // The client uses odd IDs, the server even ones; the peer uses the other parity.
        let isOdd = id % 2 == 1
        return self.role == .client ? !isOdd : isOdd
    }

    // MARK: - Local events

    /// The local side opens a stream. On success, send a Window Update with SYN and ``initialWindowDelta`` for the
    /// returned ID.
    package mutating func openStream(now: NIODeadline) -> Result<UInt32, YamuxError> {
        switch self.state {
        case .active: break
        case .goingAway(let sent, _):
            return .failure(.sessionClosed(sent ? "this session sent Go Away" : "the peer sent Go Away"))
        case .closed:
            return .failure(.sessionClosed("the session is closed"))
        }
        guard self.unacknowledgedStreams < self.maximumUnacknowledgedStreams else {
            return .failure(.tooManyUnacknowledgedStreams(limit: self.maximumUnacknowledgedStreams))
        }
        guard self.streams.count < self.maximumConcurrentStreams else {
            return .failure(.tooManyStreams(limit: self.maximumConcurrentStreams))
        }
        guard self.nextLocalStreamID <= UInt32.max - 1 else {
            return .failure(.sessionClosed("stream IDs are exhausted"))
        }
        let id = self.nextLocalStreamID
        self.nextLocalStreamID += 2
        self.streams[id] = YamuxStreamStateMachine(
            id: id,
            isLocal: true,
            receiveWindow: self.initialReceiveWindow,
            now: now
        )
        self.grantedReceiveWindow += self.initialReceiveWindow
        self.unacknowledgedStreams += 1
        return .success(id)
    }

    /// Takes up to `wanted` bytes of stream `id`'s send window; returns how many bytes may be sent now.
    package mutating func reserveSendWindow(streamID id: UInt32, upTo wanted: Int) -> Int {
        guard var stream = self.streams[id] else { return 0 }
        let granted = stream.reserveSendWindow(upTo: wanted)
        self.streams[id] = stream
        return granted
    }

    /// The remaining send window of stream `id` (0 if it cannot send).
    package func availableSendWindow(streamID id: UInt32) -> Int {
        guard let stream = self.streams[id], stream.isOutputOpen else { return 0 }
        return stream.sendWindow
    }

    /// The local side half-closes stream `id` (after its pending data went out).
    package mutating func closeOutput(streamID id: UInt32) -> CloseOutputAction {
        guard var stream = self.streams[id], stream.finSent() else { return .doNothing }
        if stream.isFinished {
            self.remove(stream)
            return .sendFin(finished: true)
        }
        self.streams[id] = stream
        return .sendFin(finished: false)
    }

    /// The local reader of stream `id` went away; later data is dropped. Returns whether the stream is finished.
    package mutating func readerClosed(streamID id: UInt32) -> Bool {
        guard var stream = self.streams[id] else { return true }
        self.bufferedBytes -= stream.readerClosed()
        if stream.isFinished {
            self.remove(stream)
            return true
        }
        self.streams[id] = stream
        return false
    }

    /// The local side resets stream `id`.
    package mutating func resetStream(streamID id: UInt32) -> ResetStreamAction {
        guard let stream = self.streams[id] else { return .doNothing }
        self.remove(stream)
        return .sendReset
    }

    /// The reader of stream `id` consumed `count` bytes.
    package mutating func bytesConsumed(streamID id: UInt32, count: Int, now: NIODeadline) -> BytesConsumedAction {
        guard var stream = self.streams[id] else { return .doNothing }
        let before = stream.unconsumedBytes
        let budget = max(0, self.maximumBufferedBytes - self.grantedReceiveWindow)
        let (delta, growth) = stream.bytesConsumed(
            count,
            now: now,
            roundTripTime: self.roundTripTime,
            maximumWindow: self.maximumStreamWindow,
            growthBudget: budget
        )
        self.bufferedBytes -= before - stream.unconsumedBytes
        self.grantedReceiveWindow += growth
        self.largestReceiveWindow = max(self.largestReceiveWindow, stream.receiveWindow)
        self.streams[id] = stream
        return delta > 0 ? .sendWindowUpdate(delta: delta) : .doNothing
    }

    /// A ping round trip was measured.
    package mutating func roundTripTimeMeasured(_ rtt: TimeAmount) {
        self.roundTripTime = rtt
    }

    /// The local side wants the session to end gracefully (or with an error code).
    package mutating func goAway(_ code: YamuxGoAwayCode = .normal) -> GoAwayAction {
        switch self.state {
        case .active:
            self.state = .goingAway(sent: true, received: false)
            return .sendGoAway(code)
        case .goingAway(false, let received):
            self.state = .goingAway(sent: true, received: received)
            return .sendGoAway(code)
        case .goingAway(true, _), .closed:
            return .doNothing
        }
    }

    /// The connection is gone. Returns the IDs of the streams that were still live.
    package mutating func sessionClosed() -> [UInt32] {
        self.state = .closed
        let ids = Array(self.streams.keys)
        self.streams.removeAll()
        self.grantedReceiveWindow = 0
        self.bufferedBytes = 0
        self.unacknowledgedStreams = 0
        return ids
    }

    private mutating func remove(_ stream: YamuxStreamStateMachine) {
        self.streams[stream.id] = nil
        self.grantedReceiveWindow -= stream.receiveWindow
        self.bufferedBytes -= stream.unconsumedBytes
        if stream.isLocal && !stream.isAcknowledged {
            self.unacknowledgedStreams -= 1
        }
    }

    // MARK: - Frames from the peer

    /// A frame header arrived (for Data frames, the payload length is `header.length`).
    package mutating func frameReceived(_ header: YamuxFrameHeader, now: NIODeadline) -> FrameReceivedAction {
        if case .closed = self.state { return .doNothing }
        switch header.type {
        case .data, .windowUpdate:
            return self.streamFrameReceived(header, now: now)
        case .ping:
            if header.flags.contains(.syn) { return .sendPingReply(opaque: header.length) }
            if header.flags.contains(.ack) { return .pingReplyReceived(opaque: header.length) }
            return .doNothing
        case .goAway:
            switch self.state {
            case .active:
                self.state = .goingAway(sent: false, received: true)
            case .goingAway(let sent, _):
                self.state = .goingAway(sent: sent, received: true)
            case .closed:
                break
            }
            guard header.length == YamuxGoAwayCode.normal.rawValue else {
                return .closeSession(goAway: nil, error: .goAwayReceived(code: header.length))
            }
            return .peerGoingAway
        }
    }

    private mutating func streamFrameReceived(_ header: YamuxFrameHeader, now: NIODeadline) -> FrameReceivedAction {
        let id = header.streamID
        let flags = header.flags
        guard id != 0 else {
            return .closeSession(
                goAway: .protocolError,
                error: .invalidStreamID(0, reason: "Data and Window Update frames may not use stream 0")
            )
        }

        var effects = StreamEffects()
        if flags.contains(.syn) {
            guard self.streams[id] == nil else {
                return .closeSession(
                    goAway: .protocolError,
                    error: .invalidStreamID(id, reason: "SYN for a live stream")
                )
            }
            guard self.isRemoteStreamID(id) else {
                return .closeSession(
                    goAway: .protocolError,
                    error: .invalidStreamID(id, reason: "the peer opened a stream with our parity")
                )
            }
            if flags.contains(.rst) { return .doNothing }
            guard case .active = self.state else {
                return .refuseStream(id: id, error: .sessionClosed("stream refused: the session is going away"))
            }
            guard self.streams.count < self.maximumConcurrentStreams else {
                return .refuseStream(id: id, error: .tooManyStreams(limit: self.maximumConcurrentStreams))
            }
            self.streams[id] = YamuxStreamStateMachine(
                id: id,
                isLocal: false,
                receiveWindow: self.initialReceiveWindow,
                now: now
            )
            self.grantedReceiveWindow += self.initialReceiveWindow
            effects.opened = true
        }

        guard var stream = self.streams[id] else {
            // A late frame for a stream we already forgot (for example after a reset): ignore it.
            return .doNothing
        }

        if flags.contains(.ack), stream.ackReceived() {
            self.unacknowledgedStreams -= 1
            effects.acknowledged = true
        }

        if header.type == .data {
            let length = Int(header.length)
            switch stream.dataReceived(length: length) {
            case .deliver:
                self.bufferedBytes += length
                if self.bufferedBytes > self.maximumBufferedBytes {
                    self.remove(stream)
                    return .resetStream(
                        id: id,
                        error: .bufferedBytesLimitExceeded(streamID: id, limit: self.maximumBufferedBytes)
                    )
                }
                effects.deliverData = length > 0
            case .discard(let windowUpdate):
                effects.windowUpdate = windowUpdate
            case .windowExceeded(let window):
                return .closeSession(
                    goAway: .protocolError,
                    error: .receiveWindowExceeded(streamID: id, length: length, window: window)
                )
            case .dataAfterFin:
                self.remove(stream)
                return .resetStream(id: id, error: .dataAfterFin(streamID: id))
            }
        } else if header.length > 0 {
            guard stream.windowUpdateReceived(delta: header.length) else {
                return .closeSession(goAway: .protocolError, error: .sendWindowOverflow(streamID: id))
            }
            effects.sendWindowIncreased = stream.isOutputOpen
        }

        if flags.contains(.rst) {
            self.remove(stream)
            effects.reset = true
            effects.finished = true
            return .stream(id: id, effects)
        }
        if flags.contains(.fin) {
            effects.inputClosed = stream.isInputOpen
            stream.finReceived()
        }
        if stream.isFinished {
            self.remove(stream)
            effects.finished = true
        } else {
            self.streams[id] = stream
        }
        return .stream(id: id, effects)
    }
}
