public import Logging
public import NIOCore

/// The Sendable handle of a Yamux session: open streams, receive the peer's streams, and go away.
///
/// Every call hops to the connection's event loop, where the handler lives.
public struct YamuxSession: Sendable {
    private let handler: NIOLoopBound<YamuxHandler>

    /// The streams the peer opens, as async channels, when ``YamuxConfiguration/inboundStreamInitializer`` is
    /// `nil`. The sequence ends when the session closes. Streams pile up (within the stream limit) until read.
    public let inbound: YamuxInboundStreams

    /// The event loop of the connection.
    public var eventLoop: any EventLoop { self.handler.eventLoop }

    init(handler: YamuxHandler, eventLoop: any EventLoop, inbound: YamuxInboundStreams) {
        self.handler = NIOLoopBound(handler, eventLoop: eventLoop)
        self.inbound = inbound
    }

    /// Opens a stream and runs `initializer` on its channel (on the event loop) before the channel becomes active.
    ///
    /// The SYN goes out at once; writes may follow without waiting for the peer's ACK.
    public func openStream(
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        self.openStream { channel in initializer(channel).map { channel } }
    }

    /// Opens a stream whose initializer produces a value, for example an async wrapper of the channel.
    public func openStream<Output: Sendable>(
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) -> EventLoopFuture<Output> {
        let promise = self.eventLoop.makePromise(of: Output.self)
        let handler = self.handler
        if self.eventLoop.inEventLoop {
            handler.value.openStream(initializer: initializer, promise: promise)
        } else {
            self.eventLoop.execute {
                handler.value.openStream(initializer: initializer, promise: promise)
            }
        }
        return promise.futureResult
    }

    /// Opens a stream as an async channel of bytes; finishing its outbound writer sends FIN.
    public func openStream() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await self.openStream { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true)
                )
            }
        }.get()
    }

    /// Sends Go Away (normal termination): neither side opens new streams; open streams continue.
    public func goAway() {
        let handler = self.handler
        if self.eventLoop.inEventLoop {
            handler.value.goAway()
        } else {
            self.eventLoop.execute {
                handler.value.goAway()
            }
        }
    }
}

/// The async sequence of streams opened by the peer.
public struct YamuxInboundStreams: AsyncSequence, Sendable {
    /// Each stream as an async channel of bytes.
    public typealias Element = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// The sequence never throws; it ends when the session closes.
    public typealias Failure = Never

    /// `nil` when an inbound stream initializer takes the streams: the sequence is then empty.
    private let stream: AsyncStream<Element>?

    init(stream: AsyncStream<Element>?) {
        self.stream = stream
    }

    /// Makes an iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.stream?.makeAsyncIterator())
    }

    /// Iterates the inbound streams.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: AsyncStream<Element>.AsyncIterator?

        init(base: AsyncStream<Element>.AsyncIterator?) {
            self.base = base
        }

        /// The next stream, or `nil` once the session closed.
        public mutating func next() async -> Element? {
            await self.base?.next()
        }

        /// The next stream, or `nil` once the session closed.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Element? {
            await self.base?.next(isolation: actor)
        }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the Yamux decoder and handler to a connection's pipeline and returns the session handle.
    ///
    /// - Parameters:
    ///   - role: ``YamuxRole/client`` for the connection dialer, ``YamuxRole/server`` for the listener.
    ///   - configuration: limits, windows, keepalive and the inbound stream initializer.
    ///   - logger: receives `debug`/`trace` records about closing, resets and streams.
    public func configureYamux(
        role: YamuxRole,
        configuration: YamuxConfiguration = YamuxConfiguration(),
        logger: Logger = Logger(label: "p2p.yamux", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> YamuxSession {
        // With an initializer the streams go there: no async sequence is made for them.
        let inbound =
            configuration.inboundStreamInitializer == nil
            ? AsyncStream<NIOAsyncChannel<ByteBuffer, ByteBuffer>>.makeStream() : nil
        let handler = YamuxHandler(
            role: role,
            configuration: configuration,
            logger: logger,
            inboundStreams: inbound?.continuation
        )
        try self.addHandler(YamuxFrameSplitter(maximumDataFrameLength: configuration.maximumInboundDataFrameLength))
        try self.addHandler(handler)
        return YamuxSession(
            handler: handler,
            eventLoop: self.eventLoop,
            inbound: YamuxInboundStreams(stream: inbound?.stream)
        )
    }
}
