// Streams and flow control: https://github.com/libp2p/specs/blob/master/yamux/README.md
// and https://github.com/hashicorp/yamux/blob/master/spec.md ("Flow Control", "Stream Close").

import NIOCore

/// The state of one Yamux stream: which directions are still open, and its two flow-control windows.
///
/// Pure: no channel, no clock. ``YamuxSessionStateMachine`` owns one per live stream.
struct YamuxStreamStateMachine {
    /// Which directions of the stream are still open.
    private enum State {
        /// Both sides may still send.
        case open
        /// We sent FIN; the peer may still send.
        case outputClosed
        /// The peer sent FIN; we may still send.
        case inputClosed
        /// Both sides sent FIN: the stream is finished.
        case closed
    }

    /// What to do with the payload of a Data frame.
    enum DataReceivedResult: Equatable {
        /// Hand the bytes to the reader; they count as buffered until consumed.
        case deliver
        /// The reader is gone: drop the bytes, and send this window update (0: none) to keep the peer going.
        case discard(windowUpdate: UInt32)
        /// The peer sent more than its window allowed.
        case windowExceeded(window: Int)
        /// The peer sent data after its FIN.
        case dataAfterFin
    }

    /// The stream ID.
    let id: UInt32
    /// Whether we opened the stream.
    let isLocal: Bool
    private var state: State = .open
    /// Whether our local reader is gone (the stream channel was closed): data is dropped, not buffered.
    private(set) var isDiscardingInput = false
    /// For an outbound stream, whether the peer's ACK arrived; inbound streams are acknowledged at once.
    private(set) var isAcknowledged: Bool

    /// Bytes we may still send (the peer's credit to us).
    private(set) var sendWindow: Int
    /// The receive window we currently grant: the most bytes in flight plus buffered.
    private(set) var receiveWindow: Int
    /// Bytes the peer may still send before our next window update.
    private(set) var receiveCredit: Int
    /// Bytes delivered to the reader but not yet consumed.
    private(set) var unconsumedBytes: Int = 0
    /// When we last sent a window update (or opened the stream), for auto-tuning.
    private var lastWindowUpdate: NIODeadline?

    /// Makes a stream with the spec's implicit 256 KiB send window and a receive window of `receiveWindow`
    /// (at least 256 KiB; the excess is granted by the window update that carries SYN or ACK).
    init(id: UInt32, isLocal: Bool, receiveWindow: Int = YamuxConfiguration.initialStreamWindow, now: NIODeadline?) {
        self.id = id
        self.isLocal = isLocal
        self.isAcknowledged = !isLocal
        self.sendWindow = YamuxConfiguration.initialStreamWindow
        self.receiveWindow = receiveWindow
        self.receiveCredit = receiveWindow
        self.lastWindowUpdate = now
    }

    /// Whether both directions are closed.
    var isFinished: Bool {
        if case .closed = self.state { return true }
        return false
    }

    /// Whether we may still send on this stream.
    var isOutputOpen: Bool {
        switch self.state {
        case .open, .inputClosed: return true
        case .outputClosed, .closed: return false
        }
    }

    /// Whether the peer may still send on this stream.
    var isInputOpen: Bool {
        switch self.state {
        case .open, .outputClosed: return true
        case .inputClosed, .closed: return false
        }
    }

    /// The peer acknowledged our SYN. Returns whether this is the first ACK (duplicates are ignored).
    mutating func ackReceived() -> Bool {
        guard self.isLocal, !self.isAcknowledged else { return false }
        self.isAcknowledged = true
        return true
    }

    /// The peer sent `length` Data bytes.
    mutating func dataReceived(length: Int) -> DataReceivedResult {
        guard self.isInputOpen else {
            return length == 0 ? .discard(windowUpdate: 0) : .dataAfterFin
        }
        guard length <= self.receiveCredit else {
            return .windowExceeded(window: self.receiveCredit)
        }
        self.receiveCredit -= length
        if self.isDiscardingInput {
            // Nobody reads: give the credit straight back once half of the window is used.
            let consumed = self.receiveWindow - self.receiveCredit
            guard consumed >= self.receiveWindow / 2 else { return .discard(windowUpdate: 0) }
            self.receiveCredit = self.receiveWindow
            return .discard(windowUpdate: UInt32(consumed))
        }
        self.unconsumedBytes += length
        return .deliver
    }

    /// The peer granted `delta` more bytes of send window. Returns `false` on overflow past 2^32-1.
    mutating func windowUpdateReceived(delta: UInt32) -> Bool {
        let newWindow = self.sendWindow + Int(delta)
        guard newWindow <= Int(UInt32.max) else { return false }
        self.sendWindow = newWindow
        return true
    }

    /// The peer sent FIN.
    mutating func finReceived() {
        switch self.state {
        case .open: self.state = .inputClosed
        case .outputClosed: self.state = .closed
        case .inputClosed, .closed: break
        }
    }

    /// We send FIN. Returns `false` if we had already sent it.
    mutating func finSent() -> Bool {
        switch self.state {
        case .open:
            self.state = .outputClosed
            return true
        case .inputClosed:
            self.state = .closed
            return true
        case .outputClosed, .closed:
            return false
        }
    }

    /// The local reader went away: from now on inbound data is dropped and its window given back.
    ///
    /// Returns the bytes that were buffered unread (the caller releases them from the session total).
    mutating func readerClosed() -> Int {
        self.isDiscardingInput = true
        let unread = self.unconsumedBytes
        self.unconsumedBytes = 0
        return unread
    }

    /// Takes up to `wanted` bytes of send window, returning how many may be sent now.
    mutating func reserveSendWindow(upTo wanted: Int) -> Int {
        guard self.isOutputOpen else { return 0 }
        let granted = min(wanted, self.sendWindow)
        self.sendWindow -= granted
        return granted
    }

    /// The reader consumed `count` bytes. Returns the window update to send (0: none yet) and by how much the
    /// receive window grew.
    ///
    /// An update is sent once at least half of the window is free to re-grant (go-yamux and rust-yamux do the
    /// same). Auto-tuning: if the previous update was less than four round trips ago, the reader keeps up with
    /// the link faster than the window allows, so the window doubles, up to `maximumWindow` and within
    /// `growthBudget` (bytes the session may still grant).
    mutating func bytesConsumed(
        _ count: Int,
        now: NIODeadline,
        roundTripTime: TimeAmount?,
        maximumWindow: Int,
        growthBudget: Int
    ) -> (windowUpdate: UInt32, growth: Int) {
        self.unconsumedBytes -= min(count, self.unconsumedBytes)
        guard self.isInputOpen, !self.isDiscardingInput else { return (0, 0) }
        var delta = self.receiveWindow - self.receiveCredit - self.unconsumedBytes
        guard delta >= self.receiveWindow / 2 else { return (0, 0) }

        var growth = 0
        if let rtt = roundTripTime, let last = self.lastWindowUpdate, now - last < rtt * 4 {
            let target = min(self.receiveWindow * 2, maximumWindow)
            growth = max(0, min(target - self.receiveWindow, growthBudget))
            self.receiveWindow += growth
            delta += growth
        }
        self.lastWindowUpdate = now
        self.receiveCredit += delta
        return (UInt32(delta), growth)
    }
}
