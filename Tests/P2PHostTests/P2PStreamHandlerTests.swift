import NIOCore
import NIOEmbedded
import Testing

@testable import P2PHost

private struct Boom: Error {}

@Suite("P2PStreamHandler: reads on demand for P2PStream")
struct P2PStreamHandlerTests {
    private func makeChannel() throws -> (EmbeddedChannel, P2PStreamHandler) {
        let handler = P2PStreamHandler()
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler)
    }

    private func read(_ handler: P2PStreamHandler, on channel: EmbeddedChannel) -> EventLoopFuture<ByteBuffer?> {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer?.self)
        handler.read(promise: promise)
        return promise.futureResult
    }

    @Test("A waiting read gets the next bytes")
    func waitingRead() throws {
        let (channel, handler) = try self.makeChannel()
        let future = self.read(handler, on: channel)
        try channel.writeInbound(ByteBuffer(string: "abc"))
        #expect(try future.wait() == ByteBuffer(string: "abc"))
        _ = try channel.finish()
    }

    @Test("Bytes that arrive first are buffered, in order, and empty buffers are skipped")
    func bufferedReads() throws {
        let (channel, handler) = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "one"))
        try channel.writeInbound(ByteBuffer())
        try channel.writeInbound(ByteBuffer(string: "two"))
        #expect(try self.read(handler, on: channel).wait() == ByteBuffer(string: "one"))
        #expect(try self.read(handler, on: channel).wait() == ByteBuffer(string: "two"))
        _ = try channel.finish()
    }

    @Test("The peer's half-close ends reading after the buffered bytes")
    func endOfStream() throws {
        let (channel, handler) = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "last"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try self.read(handler, on: channel).wait() == ByteBuffer(string: "last"))
        #expect(try self.read(handler, on: channel).wait() == nil)
        _ = try channel.finish()
    }

    @Test("A second read while one waits fails instead of replacing the first")
    func concurrentRead() throws {
        let (channel, handler) = try self.makeChannel()
        let first = self.read(handler, on: channel)
        #expect(throws: P2PHostError(.protocolViolation, "")) { try self.read(handler, on: channel).wait() }
        try channel.writeInbound(ByteBuffer(string: "x"))
        #expect(try first.wait() == ByteBuffer(string: "x"))
        _ = try channel.finish()
    }

    @Test("A pipeline error fails the waiting read and closes the stream")
    func errorFailsRead() throws {
        let (channel, handler) = try self.makeChannel()
        let future = self.read(handler, on: channel)
        channel.pipeline.fireErrorCaught(Boom())
        #expect(throws: Boom.self) { try future.wait() }
        #expect(!channel.isActive)
    }

    @Test("Closing the channel ends a waiting read with end of stream")
    func closeEndsRead() throws {
        let (channel, handler) = try self.makeChannel()
        let future = self.read(handler, on: channel)
        _ = try channel.finish()
        #expect(try future.wait() == nil)
    }
}

@Suite("P2PStreamHandler: bulk reads")
struct P2PStreamHandlerBulkReadTests {
    private func makeChannel() throws -> (EmbeddedChannel, P2PStreamHandler) {
        let handler = P2PStreamHandler()
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler)
    }

    private func readAll(_ handler: P2PStreamHandler, on channel: EmbeddedChannel) -> EventLoopFuture<[ByteBuffer]?> {
        let promise = channel.eventLoop.makePromise(of: [ByteBuffer]?.self)
        handler.readAll(promise: promise)
        return promise.futureResult
    }

    @Test("One bulk read takes every buffered chunk in order; the next one waits for new bytes")
    func bulkReadTakesAll() throws {
        let (channel, handler) = try self.makeChannel()
        for text in ["one", "two", "three"] {
            try channel.writeInbound(ByteBuffer(string: text))
        }
        #expect(
            try self.readAll(handler, on: channel).wait() == ["one", "two", "three"].map { ByteBuffer(string: $0) }
        )
        let next = self.readAll(handler, on: channel)
        try channel.writeInbound(ByteBuffer(string: "four"))
        #expect(try next.wait() == [ByteBuffer(string: "four")])
        _ = try channel.finish()
    }

    @Test("A bulk read ends with nil after the half-close, and fails with the stream's error")
    func bulkReadEndAndFailure() throws {
        let (channel, handler) = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "last"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try self.readAll(handler, on: channel).wait() == [ByteBuffer(string: "last")])
        #expect(try self.readAll(handler, on: channel).wait() == nil)
        _ = try channel.finish()

        let (failing, failingHandler) = try self.makeChannel()
        let waiting = self.readAll(failingHandler, on: failing)
        failing.pipeline.fireErrorCaught(Boom())
        #expect(throws: Boom.self) { try waiting.wait() }
        _ = try? failing.finish()
    }

    @Test("A bulk read while another read waits fails")
    func bulkReadWhileWaiting() throws {
        let (channel, handler) = try self.makeChannel()
        let first = self.readAll(handler, on: channel)
        #expect(throws: P2PHostError(.protocolViolation, "")) { try self.readAll(handler, on: channel).wait() }
        try channel.writeInbound(ByteBuffer(string: "x"))
        #expect(try first.wait() == [ByteBuffer(string: "x")])
        _ = try channel.finish()
    }
}

/// Counts the `read()` calls that reach the channel.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Never
    var reads = 0

    func read(context: ChannelHandlerContext) {
        self.reads += 1
        context.read()
    }
}

@Suite("P2PStreamHandler: bounded read-ahead")
struct P2PStreamHandlerReadAheadTests {
    private func makeChannel(limit: Int) throws -> (EmbeddedChannel, P2PStreamHandler, ReadCounter) {
        let counter = ReadCounter()
        let handler = P2PStreamHandler(readAheadLimit: limit)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        counter.reads = 0
        return (channel, handler, counter)
    }

    private func deliver(_ count: Int, on channel: EmbeddedChannel) {
        channel.pipeline.fireChannelRead(ByteBuffer(repeating: 1, count: count))
        channel.pipeline.fireChannelReadComplete()
    }

    @Test("After a read burst it asks for more only while fewer than the limit's bytes are buffered")
    func asksWhileUnderLimit() throws {
        let (channel, _, counter) = try self.makeChannel(limit: 100)
        self.deliver(60, on: channel)
        #expect(counter.reads == 1)
        self.deliver(60, on: channel)
        #expect(counter.reads == 1)
        _ = try channel.finish()
    }

    @Test("A reader taking the buffered bytes makes room, so more is asked for at once")
    func takingMakesRoom() throws {
        let (channel, handler, counter) = try self.makeChannel(limit: 100)
        self.deliver(150, on: channel)
        #expect(counter.reads == 0)
        let promise = channel.eventLoop.makePromise(of: [ByteBuffer]?.self)
        handler.readAll(promise: promise)
        #expect(try promise.futureResult.wait()?.map(\.readableBytes) == [150])
        #expect(counter.reads == 1)
        _ = try channel.finish()
    }

    @Test("Nothing more is asked for after the peer's half-close")
    func noReadAfterEnd() throws {
        let (channel, _, counter) = try self.makeChannel(limit: 100)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        self.deliver(10, on: channel)
        #expect(counter.reads == 0)
        _ = try channel.finish()
    }
}
