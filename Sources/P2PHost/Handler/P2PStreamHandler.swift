import NIOCore
import P2PYamux

/// Bridges one negotiated stream channel to ``P2PStream``: buffers reads and hands them out on demand.
///
/// The channel runs with `autoRead` off; the handler asks for more bytes while fewer than ``readAheadLimit`` bytes
/// are buffered, so the Yamux window is reopened as the application reads, plus a bounded read-ahead. The read-ahead
/// lets the window reopen while the reading task is between two reads (a hop through the task executor, which is
/// slow on a busy machine) instead of stalling the sender for that long. It sits last in the stream's pipeline,
/// after multistream-select removed itself.
final class P2PStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// A reader waiting for bytes: one buffer, or everything buffered.
    private enum PendingRead {
        case one(EventLoopPromise<ByteBuffer?>)
        case all(EventLoopPromise<[ByteBuffer]?>)
    }

    /// The default read-ahead: as much as the Yamux spec's initial stream window, 256 KiB.
    static let defaultReadAheadLimit = 256 * 1024

    private var context: ChannelHandlerContext?
    private var buffered = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// The bytes in `buffered`.
    private var bufferedBytes = 0
    /// More bytes are asked for only while fewer than this many are buffered.
    private let readAheadLimit: Int
    private var pendingRead: PendingRead?
    private var inputClosed = false
    private var failure: (any Error)?

    /// A handler that reads ahead up to `readAheadLimit` bytes (0: only while a reader waits and nothing is buffered).
    init(readAheadLimit: Int = P2PStreamHandler.defaultReadAheadLimit) {
        self.readAheadLimit = readAheadLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.inputClosed = true
        self.completePendingRead()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        guard bytes.readableBytes > 0 else { return }
        self.buffered.append(bytes)
        self.bufferedBytes += bytes.readableBytes
        self.completePendingRead()
    }

    /// After a burst of reads, asks for more while the read-ahead has room.
    func channelReadComplete(context: ChannelHandlerContext) {
        self.readAheadIfRoom()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.inputClosed = true
            self.completePendingRead()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inputClosed = true
        self.completePendingRead()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.failure == nil {
            if let yamuxError = error as? YamuxError, yamuxError.code == .streamReset {
                self.failure = P2PHostError(.streamReset, "the stream was reset", underlying: yamuxError)
            } else {
                self.failure = error
            }
        }
        self.completePendingRead()
        context.close(promise: nil)
    }

    /// The next bytes from the peer, or `nil` at the end of the stream. One read at a time.
    func read(promise: EventLoopPromise<ByteBuffer?>) {
        guard self.pendingRead == nil else {
            promise.fail(P2PHostError(.protocolViolation, "P2PStream.read() called while another read is waiting"))
            return
        }
        self.startRead(.one(promise))
    }

    /// Every buffer received so far (at least one), or `nil` at the end of the stream. One read at a time.
    func readAll(promise: EventLoopPromise<[ByteBuffer]?>) {
        guard self.pendingRead == nil else {
            promise.fail(P2PHostError(.protocolViolation, "P2PStream.read() called while another read is waiting"))
            return
        }
        self.startRead(.all(promise))
    }

    private func startRead(_ read: PendingRead) {
        self.pendingRead = read
        self.completePendingRead()
        if self.pendingRead != nil, let context {
            context.read()
        } else {
            self.readAheadIfRoom()
        }
    }

    private func readAheadIfRoom() {
        guard self.bufferedBytes < self.readAheadLimit, !self.inputClosed, self.failure == nil, let context else {
            return
        }
        context.read()
    }

    private func completePendingRead() {
        guard let read = self.pendingRead else { return }
        if !self.buffered.isEmpty {
            self.pendingRead = nil
            switch read {
            case .one(let promise):
                let first = self.buffered.removeFirst()
                self.bufferedBytes -= first.readableBytes
                promise.succeed(first)
            case .all(let promise):
                let all = Array(self.buffered)
                self.buffered.removeAll(keepingCapacity: true)
                self.bufferedBytes = 0
                promise.succeed(all)
            }
        } else if let failure {
            self.pendingRead = nil
            switch read {
            case .one(let promise): promise.fail(failure)
            case .all(let promise): promise.fail(failure)
            }
        } else if self.inputClosed {
            self.pendingRead = nil
            switch read {
            case .one(let promise): promise.succeed(nil)
            case .all(let promise): promise.succeed(nil)
            }
        }
    }
}

@available(*, unavailable)
extension P2PStreamHandler: Sendable {}
