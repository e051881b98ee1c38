public import NIOCore
import Synchronization

/// Ask a Yamux stream channel to reset its stream (send RST) instead of closing it gracefully.
///
/// Send it with `channel.triggerUserOutboundEvent(YamuxResetStreamEvent())`; the channel closes at once.
public struct YamuxResetStreamEvent: Hashable, Sendable {
    /// Makes the event.
    public init() {}
}

/// Channel options specific to Yamux stream channels.
public enum YamuxStreamChannelOptions: Sendable {
    /// The Yamux stream ID of the channel (read-only).
    public static let streamID = StreamIDOption()

    /// Reads the stream ID of a Yamux stream channel.
    public struct StreamIDOption: ChannelOption, Sendable {
        /// The stream ID.
        public typealias Value = UInt32
        /// Makes the option.
        public init() {}
    }
}

/// One Yamux stream as a NIO `Channel` with its own pipeline, a child of the connection channel.
///
/// Reads are `ByteBuffer`s; delivering them to the pipeline counts as consuming them, which reopens the peer's send
/// window, so `autoRead` off plus explicit `read()` calls give backpressure. Writes take `ByteBuffer`s and become Data
/// frames as the send window allows; `close(mode: .output)` sends FIN after the pending writes, `close()` sends FIN
/// too and drops whatever the peer still sends. The peer's FIN arrives as `ChannelEvent.inputClosed` (the channel
/// allows remote half-closure by default) and the channel closes once both sides sent FIN.
///
/// All mutable state lives on the parent's event loop; only `isActive` and `isWritable` are read from elsewhere,
/// and they are atomics. That is why the class is `@unchecked Sendable`.
final class YamuxStreamChannel: Channel, ChannelCore, @unchecked Sendable {
    private enum State {
        /// Created; the initializer has not finished.
        case idle
        /// Active for the user.
        case active
        /// Closed for the user (the stream may still flush writes and wait for the peer's FIN).
        case closed
    }

    private struct PendingWrite {
        var data: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    /// The Yamux stream ID.
    let streamID: UInt32
    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator
    let parent: (any Channel)?
    private let closePromise: EventLoopPromise<Void>
    private var _pipeline: ChannelPipeline!
    private let multiplexer: YamuxHandler
    private let activeFlag = Atomic<Bool>(false)
    private let writableFlag = Atomic<Bool>(true)
    private let highWatermark: Int
    private let lowWatermark: Int
    private let maximumFrameLength: Int

    private var state: State = .idle
    private var autoRead = true
    private var allowRemoteHalfClosure = true
    private var unsatisfiedRead = false
    private var pendingReads = CircularBuffer<ByteBuffer>(initialCapacity: 8)
    private var inputClosedReceived = false
    private var inputClosedDelivered = false
    private var streamFinished = false
    private var pendingWrites = CircularBuffer<PendingWrite>(initialCapacity: 8)
    private var flushedWriteCount = 0
    private var bufferedWriteBytes = 0
    private var bufferIsWritable = true
    private var parentIsWritable: Bool
    private var outputCloseRequested = false
    private var outputClosed = false
    private var outputClosePromise: EventLoopPromise<Void>?
    /// Whether the stream is over on the wire (reset, finished, or session gone): nothing more may be sent.
    private var isDetached = false

    init(
        streamID: UInt32,
        parent: any Channel,
        multiplexer: YamuxHandler,
        configuration: YamuxConfiguration
    ) {
        self.streamID = streamID
        self.eventLoop = parent.eventLoop
        self.allocator = parent.allocator
        self.parent = parent
        self.closePromise = parent.eventLoop.makePromise()
        self.parentIsWritable = parent.isWritable
        self.writableFlag.store(parent.isWritable, ordering: .relaxed)
        self.multiplexer = multiplexer
        self.highWatermark = configuration.outboundBufferHighWatermark
        self.lowWatermark = min(configuration.outboundBufferLowWatermark, configuration.outboundBufferHighWatermark)
        self.maximumFrameLength = max(1, configuration.maximumOutboundDataFrameLength)
        self._pipeline = ChannelPipeline(channel: self)
    }

    // MARK: Channel

    var closeFuture: EventLoopFuture<Void> { self.closePromise.futureResult }
    var pipeline: ChannelPipeline { self._pipeline }
    var localAddress: SocketAddress? { self.parent?.localAddress }
    var remoteAddress: SocketAddress? { self.parent?.remoteAddress }
    var isWritable: Bool { self.writableFlag.load(ordering: .relaxed) }
    var isActive: Bool { self.activeFlag.load(ordering: .relaxed) }
    var _channelCore: any ChannelCore { self }
    var syncOptions: (any NIOSynchronousChannelOptions)? { SynchronousOptions(channel: self) }

    func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        if self.eventLoop.inEventLoop {
            return self.eventLoop.makeCompletedFuture { try self.setOption0(option, value: value) }
        }
        return self.eventLoop.submit { try self.setOption0(option, value: value) }
    }

    func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        if self.eventLoop.inEventLoop {
            return self.eventLoop.makeCompletedFuture { try self.getOption0(option) }
        }
        return self.eventLoop.submit { try self.getOption0(option) }
    }

    private func setOption0<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
        self.eventLoop.preconditionInEventLoop()
        switch option {
        case is ChannelOptions.Types.AutoReadOption:
            let newValue = value as! Bool
            let wasOff = !self.autoRead
            self.autoRead = newValue
            if newValue && wasOff && self.state == .active {
                self.pipeline.read()
            }
        case is ChannelOptions.Types.AllowRemoteHalfClosureOption:
            self.allowRemoteHalfClosure = value as! Bool
        default:
            throw YamuxError.unsupportedOperation("setting option \(option)")
        }
    }

    private func getOption0<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
        self.eventLoop.preconditionInEventLoop()
        switch option {
        case is ChannelOptions.Types.AutoReadOption:
            return self.autoRead as! Option.Value
        case is ChannelOptions.Types.AllowRemoteHalfClosureOption:
            return self.allowRemoteHalfClosure as! Option.Value
        case is YamuxStreamChannelOptions.StreamIDOption:
            return self.streamID as! Option.Value
        default:
            throw YamuxError.unsupportedOperation("reading option \(option)")
        }
    }

    private struct SynchronousOptions: NIOSynchronousChannelOptions {
        let channel: YamuxStreamChannel

        func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
            try self.channel.setOption0(option, value: value)
        }

        func getOption<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
            try self.channel.getOption0(option)
        }
    }

    // MARK: Set-up

    /// Runs `initializer` on the new channel, then activates it; a failed initializer resets the stream.
    func configure<Output: Sendable>(
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>,
        promise: EventLoopPromise<Output>?
    ) {
        initializer(self).hop(to: self.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let output):
                self.activate()
                promise?.succeed(output)
            case .failure(let error):
                if !self.isDetached {
                    self.multiplexer.streamResetLocally(self)
                }
                self.reset(error: error)
                promise?.fail(error)
            }
        }
    }

    private func activate() {
        guard self.state == .idle else { return }
        self.state = .active
        self.activeFlag.store(true, ordering: .relaxed)
        self.pipeline.fireChannelActive()
        if self.autoRead {
            self.pipeline.read()
        }
        self.tryToRead()
    }

    // MARK: ChannelCore

    func localAddress0() throws -> SocketAddress {
        guard let address = self.parent?.localAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    func remoteAddress0() throws -> SocketAddress {
        guard let address = self.parent?.remoteAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    func register0(promise: EventLoopPromise<Void>?) {
        promise?.fail(YamuxError.unsupportedOperation("register"))
    }

    func bind0(to: SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(YamuxError.unsupportedOperation("bind"))
    }

    func connect0(to: SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(YamuxError.unsupportedOperation("connect"))
    }

    func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.state != .closed, !self.isDetached else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        guard !self.outputCloseRequested else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        let buffer = self.unwrapData(data, as: ByteBuffer.self)
        self.pendingWrites.append(PendingWrite(data: buffer, promise: promise))
        self.bufferedWriteBytes += buffer.readableBytes
        self.updateWritability()
    }

    func flush0() {
        self.flushedWriteCount = self.pendingWrites.count
        self.deliverPendingWrites()
    }

    func read0() {
        guard !self.unsatisfiedRead else { return }
        self.unsatisfiedRead = true
        if self.pendingReads.isEmpty && !(self.inputClosedReceived && !self.inputClosedDelivered) {
            self.parent?.read()
        } else {
            self.tryToRead()
        }
    }

    func close0(error: any Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .input:
            promise?.fail(ChannelError.operationUnsupported)
        case .output:
            guard self.state != .closed, !self.outputCloseRequested else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            self.outputCloseRequested = true
            self.outputClosePromise = promise
            self.flushedWriteCount = self.pendingWrites.count
            self.deliverPendingWrites()
        case .all:
            guard self.state != .closed else {
                promise?.fail(ChannelError.alreadyClosed)
                return
            }
            // Graceful: pending writes still go out, followed by FIN; whatever the peer sends later is dropped.
            if !self.outputCloseRequested {
                self.outputCloseRequested = true
                self.flushedWriteCount = self.pendingWrites.count
            }
            self.pendingReads.removeAll()
            if !self.isDetached {
                self.multiplexer.streamReaderClosed(self)
            }
            self.deliverPendingWrites()
            self.closeForUser(error: nil)
            promise?.succeed()
        }
    }

    func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) {
        if event is YamuxResetStreamEvent {
            guard self.state != .closed || !self.isDetached else {
                promise?.fail(ChannelError.alreadyClosed)
                return
            }
            if !self.isDetached {
                self.multiplexer.streamResetLocally(self)
            }
            self.reset(error: YamuxError.streamReset(streamID: self.streamID))
            promise?.succeed()
        } else {
            promise?.fail(ChannelError.operationUnsupported)
        }
    }

    func channelRead0(_ data: NIOAny) {
        // Reads that reach the end of the stream's pipeline are dropped.
    }

    func errorCaught0(error: any Error) {
        // Errors that reach the end of the stream's pipeline are dropped.
    }

    // MARK: Writes

    private func deliverPendingWrites() {
        while self.flushedWriteCount > 0, !self.isDetached {
            let length = self.pendingWrites[self.pendingWrites.startIndex].data.readableBytes
            if length == 0 {
                let write = self.pendingWrites.removeFirst()
                self.flushedWriteCount -= 1
                write.promise?.succeed()
                continue
            }
            let granted = self.multiplexer.reserveSendWindow(
                for: self,
                upTo: min(length, self.maximumFrameLength)
            )
            guard granted > 0 else { break }
            self.bufferedWriteBytes -= granted
            if granted == length {
                let write = self.pendingWrites.removeFirst()
                self.flushedWriteCount -= 1
                self.multiplexer.writeData(write.data, for: self, promise: write.promise)
            } else {
                let slice = self.pendingWrites[self.pendingWrites.startIndex].data.readSlice(length: granted)!
                self.multiplexer.writeData(slice, for: self, promise: nil)
            }
        }
        if self.outputCloseRequested, !self.outputClosed, self.pendingWrites.isEmpty, !self.isDetached {
            self.outputClosed = true
            let promise = self.outputClosePromise
            self.outputClosePromise = nil
            self.multiplexer.closeOutput(of: self, promise: promise)
        }
        self.updateWritability()
        self.multiplexer.flushIfNeeded()
    }

    /// Writable when our own buffer is under the watermarks (with hysteresis) and the connection is writable.
    private func updateWritability() {
        if self.bufferIsWritable && self.bufferedWriteBytes > self.highWatermark {
            self.bufferIsWritable = false
        } else if !self.bufferIsWritable && self.bufferedWriteBytes <= self.lowWatermark {
            self.bufferIsWritable = true
        }
        let writable = self.bufferIsWritable && self.parentIsWritable
        guard writable != self.isWritable else { return }
        self.writableFlag.store(writable, ordering: .relaxed)
        if self.state == .active {
            self.pipeline.fireChannelWritabilityChanged()
        }
    }

    /// The connection's writability changed.
    func parentWritabilityChanged(_ writable: Bool) {
        self.parentIsWritable = writable
        self.updateWritability()
    }

    private func failPendingWrites(error: any Error) {
        self.flushedWriteCount = 0
        self.bufferedWriteBytes = 0
        while let write = self.pendingWrites.popFirst() {
            write.promise?.fail(error)
        }
        if let promise = self.outputClosePromise {
            self.outputClosePromise = nil
            promise.fail(error)
        }
    }

    // MARK: Reads

    private func tryToRead() {
        guard self.unsatisfiedRead, self.state == .active else { return }
        let hasInputClosed = self.inputClosedReceived && !self.inputClosedDelivered
        guard !self.pendingReads.isEmpty || hasInputClosed else { return }
        self.unsatisfiedRead = false
        self.deliverPendingReads()
        if self.state == .active && self.autoRead {
            self.pipeline.read()
        }
    }

    private func deliverPendingReads() {
        var consumed = 0
        var delivered = false
        while self.state == .active, let buffer = self.pendingReads.popFirst() {
            consumed += buffer.readableBytes
            delivered = true
            self.pipeline.fireChannelRead(buffer)
        }
        if delivered && self.state == .active {
            self.pipeline.fireChannelReadComplete()
        }
        if consumed > 0 && !self.isDetached {
            self.multiplexer.bytesConsumed(consumed, by: self)
        }
        guard self.state == .active, self.pendingReads.isEmpty else { return }
        if self.inputClosedReceived && !self.inputClosedDelivered {
            self.inputClosedDelivered = true
            if self.allowRemoteHalfClosure {
                self.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            } else {
                self.close(promise: nil)
                return
            }
        }
        self.closeIfFinished()
    }

    private func closeIfFinished() {
        guard self.streamFinished, self.state == .active, self.pendingReads.isEmpty, self.inputClosedDelivered else {
            return
        }
        self.closeForUser(error: nil)
    }

    // MARK: Events from the multiplexer

    /// A Data payload arrived.
    func receiveData(_ buffer: ByteBuffer) {
        guard self.state != .closed else { return }
        self.pendingReads.append(buffer)
    }

    /// The peer sent FIN.
    func receiveInputClosed() {
        self.inputClosedReceived = true
    }

    /// The parent finished a read burst: deliver what arrived if a read is pending.
    func parentReadComplete() {
        self.tryToRead()
    }

    /// More send window is available.
    func sendWindowOpened() {
        self.deliverPendingWrites()
    }

    /// Both sides sent FIN: the stream is over once the reader saw everything.
    func receiveStreamFinished() {
        self.streamFinished = true
        self.isDetached = true
        self.closeIfFinished()
    }

    /// The stream ended abnormally (RST from the peer, a protocol violation, or the session went away).
    func receiveStreamError(_ error: any Error) {
        self.isDetached = true
        self.reset(error: error)
    }

    private func reset(error: any Error) {
        self.isDetached = true
        self.pendingReads.removeAll()
        self.failPendingWrites(error: error)
        self.closeForUser(error: error)
    }

    private func closeForUser(error: (any Error)?) {
        let wasActive = self.state == .active
        guard self.state != .closed else { return }
        self.state = .closed
        self.activeFlag.store(false, ordering: .relaxed)
        if wasActive {
            if let error {
                self.pipeline.fireErrorCaught(error)
            }
            self.pipeline.fireChannelInactive()
        }
        self.eventLoop.assumeIsolated().execute {
            self.removeHandlers(pipeline: self.pipeline)
            self.closePromise.succeed()
        }
    }
}

extension YamuxStreamChannel: CustomStringConvertible {
    var description: String {
        "YamuxStreamChannel(streamID: \(self.streamID), isActive: \(self.isActive))"
    }
}
