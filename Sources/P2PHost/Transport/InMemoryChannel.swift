import NIOCore
import Synchronization

/// One end of an in-memory connection: a NIO `Channel` whose flushed writes arrive as reads at the other end.
///
/// It behaves like a connected TCP socket for the handlers above it: `channelActive` once both ends are set up,
/// `autoRead` and `read()` control delivery, a full close reaches the peer as end of input (the peer closes too,
/// unless it allows remote half-closure, in which case it sees `ChannelEvent.inputClosed`), and `close(mode:
/// .output)` is a half-close. Bytes cross to the peer with one `execute` on the peer's event loop per flush, so both
/// ends may live on different loops, and a loop with virtual time runs the whole exchange without real delays.
/// While the ``InMemoryNetwork`` isolates either end's virtual host, flushed bytes vanish (as behind a dead link).
///
/// All mutable state lives on the channel's event loop; only `isActive` is read from elsewhere (an atomic), and
/// `peer` is set once before either end is used. That is why the class is `@unchecked Sendable`.
final class InMemoryChannel: Channel, ChannelCore, @unchecked Sendable {
    private enum State {
        /// Created; not yet active.
        case idle
        /// Connected.
        case active
        /// Closed.
        case closed
    }

    private struct PendingWrite {
        var data: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    let eventLoop: any EventLoop
    let allocator = ByteBufferAllocator()
    let localAddress: SocketAddress?
    let remoteAddress: SocketAddress?
    private let network: InMemoryNetwork
    private let localEndpoint: InMemoryNetwork.Endpoint
    private let remoteEndpoint: InMemoryNetwork.Endpoint
    private let closePromise: EventLoopPromise<Void>
    private var _pipeline: ChannelPipeline!
    private let activeFlag = Atomic<Bool>(false)

    /// The other end: set by ``connect(_:_:)`` before either end is used, cleared on this loop at close.
    private var peer: InMemoryChannel?
    private var state = State.idle
    private var autoRead = true
    private var allowRemoteHalfClosure = false
    private var pendingWrites = CircularBuffer<PendingWrite>(initialCapacity: 4)
    private var inbound = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private var readRequested = false
    private var delivering = false
    private var peerOutputClosed = false
    private var inputClosedDelivered = false
    private var outputClosed = false

    private init(
        eventLoop: any EventLoop,
        network: InMemoryNetwork,
        local: InMemoryNetwork.Endpoint,
        remote: InMemoryNetwork.Endpoint
    ) {
        self.eventLoop = eventLoop
        self.network = network
        self.localEndpoint = local
        self.remoteEndpoint = remote
        self.localAddress = local.socketAddress
        self.remoteAddress = remote.socketAddress
        self.closePromise = eventLoop.makePromise()
        self._pipeline = ChannelPipeline(channel: self)
    }

    /// A connected pair: the dialer's end on `dialerLoop`, the listener's end on `listenerLoop`.
    static func pair(
        network: InMemoryNetwork,
        dialer: (loop: any EventLoop, endpoint: InMemoryNetwork.Endpoint),
        listener: (loop: any EventLoop, endpoint: InMemoryNetwork.Endpoint)
    ) -> (dialer: InMemoryChannel, listener: InMemoryChannel) {
        let dialing = InMemoryChannel(
            eventLoop: dialer.loop,
            network: network,
            local: dialer.endpoint,
            remote: listener.endpoint
        )
        let accepted = InMemoryChannel(
            eventLoop: listener.loop,
            network: network,
            local: listener.endpoint,
            remote: dialer.endpoint
        )
        dialing.peer = accepted
        accepted.peer = dialing
        return (dialing, accepted)
    }

    // MARK: Channel

    var closeFuture: EventLoopFuture<Void> { self.closePromise.futureResult }
    var pipeline: ChannelPipeline { self._pipeline }
    var parent: (any Channel)? { nil }
    var isWritable: Bool { true }
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
        case is ChannelOptions.Types.SocketOption:
            // Socket options (TCP_NODELAY, SO_REUSEADDR) mean nothing here.
            break
        default:
            throw ChannelError.operationUnsupported
        }
    }

    private func getOption0<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
        self.eventLoop.preconditionInEventLoop()
        switch option {
        case is ChannelOptions.Types.AutoReadOption:
            return self.autoRead as! Option.Value
        case is ChannelOptions.Types.AllowRemoteHalfClosureOption:
            return self.allowRemoteHalfClosure as! Option.Value
        default:
            throw ChannelError.operationUnsupported
        }
    }

    private struct SynchronousOptions: NIOSynchronousChannelOptions {
        let channel: InMemoryChannel

        func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
            try self.channel.setOption0(option, value: value)
        }

        func getOption<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
            try self.channel.getOption0(option)
        }
    }

    // MARK: Set-up

    /// Makes the channel active (registered, then active, then a first read with `autoRead`). On its event loop.
    func activate() {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .idle else { return }
        self.state = .active
        self.activeFlag.store(true, ordering: .relaxed)
        self.pipeline.fireChannelRegistered()
        self.pipeline.fireChannelActive()
        if self.state == .active && self.autoRead {
            self.pipeline.read()
        }
    }

    // MARK: ChannelCore

    func localAddress0() throws -> SocketAddress {
        guard let address = self.localAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    func remoteAddress0() throws -> SocketAddress {
        guard let address = self.remoteAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    func register0(promise: EventLoopPromise<Void>?) {
        promise?.succeed()
    }

    func bind0(to: SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }

    func connect0(to: SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }

    func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.state != .closed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        guard !self.outputClosed else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        self.pendingWrites.append(PendingWrite(data: self.unwrapData(data, as: ByteBuffer.self), promise: promise))
    }

    func flush0() {
        guard self.state != .closed, !self.pendingWrites.isEmpty else { return }
        var buffers: [ByteBuffer] = []
        buffers.reserveCapacity(self.pendingWrites.count)
        var promises: [EventLoopPromise<Void>] = []
        while let write = self.pendingWrites.popFirst() {
            if write.data.readableBytes > 0 {
                buffers.append(write.data)
            }
            if let promise = write.promise {
                promises.append(promise)
            }
        }
        if !buffers.isEmpty, let peer = self.peer, self.network.carries(self.localEndpoint, self.remoteEndpoint) {
            let sent = buffers
            peer.eventLoop.execute { peer.receive(sent) }
        }
        for promise in promises {
            promise.succeed()
        }
    }

    func read0() {
        self.readRequested = true
        self.deliverReads()
    }

    func close0(error: any Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .input:
            promise?.fail(ChannelError.operationUnsupported)
        case .output:
            guard self.state != .closed, !self.outputClosed else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            self.flush0()
            self.closeOutput()
            promise?.succeed()
        case .all:
            guard self.state != .closed else {
                promise?.fail(ChannelError.alreadyClosed)
                return
            }
            let wasActive = self.state == .active
            self.state = .closed
            self.activeFlag.store(false, ordering: .relaxed)
            while let write = self.pendingWrites.popFirst() {
                write.promise?.fail(ChannelError.ioOnClosedChannel)
            }
            self.inbound.removeAll()
            self.closeOutput()
            self.peer = nil
            if wasActive {
                self.pipeline.fireChannelInactive()
            }
            self.eventLoop.assumeIsolated().execute {
                self.removeHandlers(pipeline: self.pipeline)
                self.closePromise.succeed()
            }
            promise?.succeed()
        }
    }

    func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }

    func channelRead0(_ data: NIOAny) {
        // Reads that reach the end of the pipeline are dropped.
    }

    func errorCaught0(error: any Error) {
        // Errors that reach the end of the pipeline are dropped.
    }

    // MARK: The link

    /// Tells the peer that we send no more (a FIN); isolation does not hold it back, so closes are always seen.
    private func closeOutput() {
        guard !self.outputClosed else { return }
        self.outputClosed = true
        if let peer = self.peer {
            peer.eventLoop.execute { peer.receiveEndOfInput() }
        }
    }

    /// Bytes from the peer (on our loop).
    private func receive(_ buffers: [ByteBuffer]) {
        guard self.state != .closed else { return }
        self.inbound.append(contentsOf: buffers)
        self.deliverReads()
    }

    /// The peer closed its output (on our loop).
    private func receiveEndOfInput() {
        guard self.state != .closed else { return }
        self.peerOutputClosed = true
        self.deliverReads()
    }

    /// Delivers what arrived when a read is requested: all buffered bytes, then end of input once they are read.
    private func deliverReads() {
        guard !self.delivering else { return }
        self.delivering = true
        defer { self.delivering = false }
        while self.state == .active, self.readRequested,
            !self.inbound.isEmpty || (self.peerOutputClosed && !self.inputClosedDelivered)
        {
            self.readRequested = false
            if !self.inbound.isEmpty {
                while self.state == .active, let buffer = self.inbound.popFirst() {
                    self.pipeline.fireChannelRead(buffer)
                }
                if self.state == .active {
                    self.pipeline.fireChannelReadComplete()
                }
            }
            if self.state == .active, self.inbound.isEmpty, self.peerOutputClosed, !self.inputClosedDelivered {
                self.inputClosedDelivered = true
                if self.allowRemoteHalfClosure {
                    self.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                } else {
                    self.close(promise: nil)
                    return
                }
            }
            if self.state == .active, self.autoRead {
                // Through the pipeline, so handlers that intercept `read` see it; it only sets `readRequested` here.
                self.pipeline.read()
            }
        }
    }
}

extension InMemoryChannel: CustomStringConvertible {
    var description: String {
        "InMemoryChannel(local: \(self.localEndpoint), remote: \(self.remoteEndpoint), isActive: \(self.isActive))"
    }
}
