public import NIOCore
public import P2PCore
import P2PYamux

/// One negotiated libp2p stream (a Yamux stream after multistream-select), for async code.
///
/// Reads and writes hop to the connection's event loop. Only one ``read()`` may wait at a time. Cancelling a task
/// that waits in ``read()`` or ``write(_:)`` closes the stream. Call
/// ``closeWrite()`` to send FIN (the peer sees end of stream; reading continues), and ``close()`` when done. Call
/// ``reset()`` to abort instead (Yamux RST): the peer's reads then fail with ``P2PHostError/Code/streamReset``, which
/// it can tell apart from a clean end of stream.
public struct P2PStream: Sendable {
    /// The negotiated protocol ID.
    public let protocolID: String
    /// The peer at the other end.
    public let remotePeer: PeerID
    private let channel: any Channel
    private let handler: NIOLoopBound<P2PStreamHandler>

    init(protocolID: String, remotePeer: PeerID, channel: any Channel, handler: P2PStreamHandler) {
        self.protocolID = protocolID
        self.remotePeer = remotePeer
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// The allocator to build outgoing buffers with.
    public var allocator: ByteBufferAllocator { self.channel.allocator }

    /// The next bytes from the peer, or `nil` once the peer closed its side (or the stream ended).
    public func read() async throws -> ByteBuffer? {
        let handler = self.handler
        let promise = self.channel.eventLoop.makePromise(of: ByteBuffer?.self)
        self.channel.eventLoop.execute {
            handler.value.read(promise: promise)
        }
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Every buffer that arrived since the last read, in order (at least one), or `nil` once the peer closed its side.
    ///
    /// One hop to the event loop however many buffers are waiting: cheaper than ``read()`` for bulk data.
    public func readChunks() async throws -> [ByteBuffer]? {
        let handler = self.handler
        let promise = self.channel.eventLoop.makePromise(of: [ByteBuffer]?.self)
        self.channel.eventLoop.execute {
            handler.value.readAll(promise: promise)
        }
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Reads until `count` bytes arrived; throws ``P2PHostError/Code/closed`` if the stream ends first.
    public func read(exactly count: Int) async throws -> ByteBuffer {
        var collected = self.channel.allocator.buffer(capacity: count)
        while collected.readableBytes < count {
            guard var next = try await self.read() else {
                throw P2PHostError(
                    .closed,
                    "stream ended after \(collected.readableBytes) of \(count) expected bytes"
                )
            }
            collected.writeBuffer(&next)
        }
        return collected
    }

    /// Reads until the peer closes its side, failing with ``P2PHostError/Code/messageTooLarge`` past `maxBytes`.
    public func readToEnd(maxBytes: Int) async throws -> ByteBuffer {
        var collected = self.channel.allocator.buffer(capacity: 0)
        while let chunks = try await self.readChunks() {
            for var next in chunks {
                guard collected.readableBytes + next.readableBytes <= maxBytes else {
                    throw P2PHostError(.messageTooLarge, "stream sent more than \(maxBytes) bytes")
                }
                collected.writeBuffer(&next)
            }
        }
        return collected
    }

    /// Writes and flushes `bytes`; returns once the stream accepted them.
    public func write(_ bytes: ByteBuffer) async throws {
        let channel = self.channel
        try await withTaskCancellationHandler {
            try await channel.writeAndFlush(bytes).get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Writes `buffers` in order and flushes once, in one hop to the event loop; returns without waiting. The future
    /// completes when the stream accepted the last buffer.
    func enqueue(_ buffers: [ByteBuffer]) -> EventLoopFuture<Void> {
        let channel = self.channel
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for buffer in buffers.dropLast() {
                channel.write(buffer, promise: nil)
            }
            channel.writeAndFlush(buffers.last ?? channel.allocator.buffer(capacity: 0), promise: promise)
        }
        return promise.futureResult
    }

    /// Waits for `future` (from ``enqueue(_:)``); cancelling the waiting task closes the stream.
    func wait(for future: EventLoopFuture<Void>) async throws {
        let channel = self.channel
        try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Closes our side (Yamux FIN) after the pending writes; the peer reads end of stream.
    public func closeWrite() async throws {
        try await self.channel.close(mode: .output).get()
    }

    /// Closes the stream in both directions.
    public func close() async {
        try? await self.channel.close().get()
    }

    /// Aborts the stream in both directions with a Yamux RST: unsent writes are dropped, and the peer's pending and
    /// later reads fail with ``P2PHostError/Code/streamReset`` (not end of stream). Use it when the peer broke the
    /// protocol, so it does not mistake the end for success. Does nothing on a stream that is already closed.
    public func reset() async {
        try? await self.channel.triggerUserOutboundEvent(YamuxResetStreamEvent()).get()
    }
}
