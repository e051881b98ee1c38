import NIOCore
import NIOEmbedded
import P2PCore
import Testing

/// Records what reaches the end of the pipeline after the negotiation handler.
private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = ByteBuffer()
    var readCompletes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        self.received.writeBuffer(&bytes)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readCompletes += 1
    }
}

private func bytes(_ hexText: String) -> ByteBuffer { ByteBuffer(bytes: hex(hexText)) }

private func activate(_ channel: EmbeddedChannel) throws {
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4001)).wait()
}

/// Reads the outbound bytes written so far, joined.
private func written(_ channel: EmbeddedChannel) throws -> ByteBuffer {
    var all = ByteBuffer()
    while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
        all.writeBuffer(&chunk)
    }
    return all
}

/// Whether `future` has completed, checked on its (embedded) event loop without waiting.
private func isCompleted(_ future: EventLoopFuture<String>) -> Bool {
    var completed = false
    future.assumeIsolated().whenComplete { _ in completed = true }
    return completed
}

/// The error code `future` failed with; `nil` if it succeeded, failed otherwise, or has not completed
/// (never blocks).
private func failure(of future: EventLoopFuture<String>) -> P2PCoreError.Code? {
    guard isCompleted(future) else { return nil }
    do {
        _ = try future.wait()
        return nil
    } catch let error as P2PCoreError {
        return error.code
    } catch {
        return nil
    }
}

@Suite("multistream-select handler")
struct MultistreamSelectHandlerTests {
    @Test("A dialer negotiates, forwards leftover bytes to the next handler and removes itself")
    func dialerNegotiates() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(
            role: .dialer(proposing: ["/tls/1.0.0", "/noise"])
        )
        let collector = Collector()
        try channel.pipeline.syncOperations.addHandler(collector)
        try activate(channel)
        #expect(try written(channel) == bytes(MultistreamVectors.header + "0b2f746c732f312e302e300a"))

        try channel.writeInbound(bytes(MultistreamVectors.header + MultistreamVectors.na))
        #expect(try written(channel) == bytes(MultistreamVectors.noise))
        #expect(!isCompleted(result))

        var answer = bytes(MultistreamVectors.noise)
        answer.writeString("noise bytes")
        try channel.writeInbound(answer)
        #expect(try result.wait() == "/noise")
        #expect(collector.received == ByteBuffer(string: "noise bytes"))
        #expect(collector.readCompletes >= 1)
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: MultistreamSelectHandler.self)
        }

        // Later reads go straight to the protocol.
        try channel.writeInbound(ByteBuffer(string: "more"))
        #expect(collector.received == ByteBuffer(string: "noise bytesmore"))
        #expect(try channel.finish().isClean)
    }

    @Test("A listener added to an active channel answers in one write and lets the callback add handlers")
    func listenerNegotiates() throws {
        let channel = EmbeddedChannel()
        try activate(channel)
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(
            role: .listener(supporting: ["/noise"])
        )
        let collector = Collector()
        result.assumeIsolated().whenSuccess { _ in
            try! channel.pipeline.syncOperations.addHandler(collector)
        }
        var input = bytes(MultistreamVectors.header + MultistreamVectors.noise)
        input.writeBytes([0x00, 0x20])
        try channel.writeInbound(input)
        #expect(try written(channel) == bytes(MultistreamVectors.header + MultistreamVectors.noise))
        #expect(try result.wait() == "/noise")
        #expect(collector.received == ByteBuffer(bytes: [0x00, 0x20]))
        #expect(try channel.finish().isClean)
    }

    @Test("Garbage from the peer fails the negotiation and closes the channel")
    func garbageFails() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(role: .listener(supporting: ["/noise"]))
        try activate(channel)
        try channel.writeInbound(bytes("072f6e6f69736578"))
        #expect(failure(of: result) == .multistreamProtocolViolation)
        #expect(!channel.isActive)
    }

    @Test("A negotiation that stalls times out on the event loop's clock")
    func timesOut() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(
            role: .dialer(proposing: ["/noise"]),
            configuration: .init(timeout: .seconds(5))
        )
        try activate(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(!isCompleted(result))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(failure(of: result) == .timedOut)
        #expect(!channel.isActive)
    }

    @Test("The peer closing the connection fails the negotiation")
    func closeFails() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(role: .dialer(proposing: ["/noise"]))
        try activate(channel)
        try channel.writeInbound(bytes(MultistreamVectors.header))
        _ = try channel.finish()
        #expect(failure(of: result) == .connectionClosed)
    }

    @Test("A half-close from the peer fails the negotiation")
    func halfCloseFails() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(role: .listener(supporting: ["/noise"]))
        try activate(channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(failure(of: result) == .connectionClosed)
        #expect(!channel.isActive)
    }

    @Test("Added while the channel is closing, the handler fails its future once the close completes")
    func addWhileClosing() throws {
        let channel = EmbeddedChannel()
        try activate(channel)
        let closed = channel.close()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(role: .listener(supporting: ["/noise"]))
        channel.embeddedEventLoop.run()
        try closed.wait()
        #expect(isCompleted(result))
        #expect(failure(of: result) == .connectionClosed)
    }

    @Test("Adding to a closed pipeline throws instead of returning a future that never completes")
    func addAfterClose() throws {
        let channel = EmbeddedChannel()
        try activate(channel)
        try channel.close().wait()
        channel.embeddedEventLoop.run()
        #expect(throws: ChannelError.ioOnClosedChannel) {
            try channel.pipeline.syncOperations.addMultistreamSelect(role: .listener(supporting: ["/noise"]))
        }
    }

    @Test("Two handlers negotiate against each other over embedded channels")
    func backToBack() throws {
        let loop = EmbeddedEventLoop()
        let dialerChannel = EmbeddedChannel(loop: loop)
        let listenerChannel = EmbeddedChannel(loop: loop)
        let dialerResult = try dialerChannel.pipeline.syncOperations.addMultistreamSelect(
            role: .dialer(proposing: ["/mplex/6.7.0", "/yamux/1.0.0"])
        )
        let listenerResult = try listenerChannel.pipeline.syncOperations.addMultistreamSelect(
            role: .listener(supporting: ["/yamux/1.0.0"])
        )
        try activate(listenerChannel)
        try activate(dialerChannel)
        for _ in 0..<4 {
            let toListener = try written(dialerChannel)
            if toListener.readableBytes > 0 { try listenerChannel.writeInbound(toListener) }
            let toDialer = try written(listenerChannel)
            if toDialer.readableBytes > 0 { try dialerChannel.writeInbound(toDialer) }
        }
        #expect(try dialerResult.wait() == "/yamux/1.0.0")
        #expect(try listenerResult.wait() == "/yamux/1.0.0")
        #expect(try dialerChannel.finish().isClean)
        #expect(try listenerChannel.finish().isClean)
    }
}

@Suite("multistream-select handler, optimistic dialer")
struct OptimisticMultistreamSelectTests {
    @Test("Succeeds right after the proposal is written, then strips the echo and forwards data")
    func optimisticSuccess() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(
            role: .dialer(proposing: ["/noise"]),
            configuration: .init(optimisticDialer: true)
        )
        let collector = Collector()
        result.assumeIsolated().whenSuccess { _ in
            try! channel.pipeline.syncOperations.addHandler(collector)
        }
        let confirmation = try channel.pipeline.syncOperations.handler(type: MultistreamSelectHandler.self)
            .optimisticConfirmation
        #expect(confirmation != nil)
        try activate(channel)
        #expect(try result.wait() == "/noise")
        // The protocol can write at once; its bytes follow the negotiation on the wire.
        try channel.writeOutbound(ByteBuffer(string: "early"))
        var expected = bytes(MultistreamVectors.header + MultistreamVectors.noise)
        expected.writeString("early")
        #expect(try written(channel) == expected)

        var answer = bytes(MultistreamVectors.header + MultistreamVectors.noise)
        answer.writeString("reply")
        for byte in answer.readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(collector.received == ByteBuffer(string: "reply"))
        try confirmation?.wait()
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: MultistreamSelectHandler.self)
        }
        #expect(try channel.finish().isClean)
    }

    @Test("A late na reaches the pipeline as an error and closes the channel")
    func optimisticLateNA() throws {
        let channel = EmbeddedChannel()
        let result = try channel.pipeline.syncOperations.addMultistreamSelect(
            role: .dialer(proposing: ["/noise"]),
            configuration: .init(optimisticDialer: true)
        )
        let confirmation = try #require(
            try channel.pipeline.syncOperations.handler(type: MultistreamSelectHandler.self).optimisticConfirmation
        )
        var confirmationError: (any Error)?
        confirmation.assumeIsolated().whenFailure { confirmationError = $0 }
        try activate(channel)
        #expect(try result.wait() == "/noise")
        #expect(throws: P2PCoreError(.multistreamNoCommonProtocol, "")) {
            try channel.writeInbound(bytes(MultistreamVectors.header + MultistreamVectors.na))
        }
        #expect((confirmationError as? P2PCoreError)?.code == .multistreamNoCommonProtocol)
        #expect(!channel.isActive)
    }
}
