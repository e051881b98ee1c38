import NIOCore
import NIOEmbedded
import Testing

@testable import P2PYamux

@Suite("Yamux handler, two sessions back to back")
struct YamuxHandlerTests {
    static func noKeepalive() -> YamuxConfiguration {
        var configuration = YamuxConfiguration()
        configuration.keepaliveInterval = nil
        return configuration
    }

    /// Records every inbound stream of `configuration` in `recorders`; with `autoRead` off the streams
    /// read only when a test asks them to.
    static func recordInbound(
        _ recorders: Recorders,
        into configuration: inout YamuxConfiguration,
        echo: Bool = false,
        autoRead: Bool = true
    ) {
        configuration.inboundStreamInitializer = { channel in
            let recorder = StreamRecorder(echo: echo)
            recorders.append(recorder)
            guard !autoRead else { return channel.addRecorder(recorder) }
            return channel.setOption(ChannelOptions.autoRead, value: false).flatMap { channel.addRecorder(recorder) }
        }
    }

    /// A server configuration whose inbound streams echo everything and half-close after the peer's FIN.
    static func echoServer(
        _ recorders: Recorders,
        base: YamuxConfiguration = YamuxConfiguration()
    )
        -> YamuxConfiguration
    {
        var configuration = base
        Self.recordInbound(recorders, into: &configuration, echo: true)
        return configuration
    }

    @Test("one stream: data both ways, FIN both ways, then both stream channels close")
    func singleStreamEcho() throws {
        let recorders = Recorders()
        let pair = try BackToBackYamux(serverConfiguration: Self.echoServer(recorders))
        let recorder = StreamRecorder()
        let future = pair.clientSession.openStream { $0.addRecorder(recorder) }
        try pair.interact()
        let stream = try future.wait()
        #expect(stream.isActive)
        #expect(try stream.getOption(YamuxStreamChannelOptions.streamID).wait() == 1)

        stream.writeAndFlush(ByteBuffer(string: "hello yamux"), promise: nil)
        try pair.interact()
        #expect(recorder.received == ByteBuffer(string: "hello yamux"))

        stream.close(mode: .output, promise: nil)
        try pair.interact()
        #expect(recorder.inputClosed)
        #expect(recorders.all.count == 1)
        #expect(recorders.all[0].inputClosed)
        #expect(recorders.all[0].inactive)
        #expect(recorder.inactive)
        #expect(!stream.isActive)
        #expect(pair.clientHandler.streamCount == 0)
        #expect(pair.serverHandler.streamCount == 0)
        #expect(try pair.finishCleanly())
    }

    @Test("a Data frame of 4 KiB or more leaves as its header then the payload itself; a smaller one as one buffer")
    func largePayloadsAreNotCopied() throws {
        let recorders = Recorders()
        var server = YamuxConfiguration()
        Self.recordInbound(recorders, into: &server)
        let pair = try BackToBackYamux(serverConfiguration: server)
        let future = pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }
        try pair.interact()
        let stream = try future.wait()
        let small = ByteBuffer(repeating: 7, count: YamuxHandler.separatePayloadLength - 1)
        let large = ByteBuffer(repeating: 9, count: YamuxHandler.separatePayloadLength)
        for payload in [small, large] {
            stream.writeAndFlush(payload, promise: nil)
            var buffers: [ByteBuffer] = []
            while let buffer = try pair.client.readOutbound(as: ByteBuffer.self) {
                buffers.append(buffer)
            }
            var frame = try #require(buffers.first)
            let header = frame.readSlice(length: YamuxFrameHeader.size)
            #expect(header != nil)
            #expect(header?.getInteger(at: 8, as: UInt32.self) == UInt32(payload.readableBytes))
            if payload.readableBytes < YamuxHandler.separatePayloadLength {
                #expect(buffers.count == 1)
                #expect(frame == payload)
            } else {
                #expect(buffers.count == 2)
                #expect(frame.readableBytes == 0)
                #expect(buffers.last == payload)
                // The same storage: written on, not copied.
                let same = buffers.last!.withUnsafeReadableBytes { sent in
                    payload.withUnsafeReadableBytes { $0.baseAddress == sent.baseAddress }
                }
                #expect(same)
            }
            for buffer in buffers {
                try pair.server.writeInbound(buffer)
            }
        }
        try pair.interact()
        var expected = small
        expected.writeImmutableBuffer(large)
        #expect(recorders.all.first?.received == expected)
    }

    @Test("50 concurrent streams carry 1 MiB each way, byte for byte, and the windows grow")
    func manyStreamsWithWindowGrowth() throws {
        let recorders = Recorders()
        let pair = try BackToBackYamux(
            serverConfiguration: Self.echoServer(recorders),
            oneWayDelay: .milliseconds(1)
        )
        try pair.interact()
        // No stream yet, so no ping yet.
        #expect(pair.clientHandler.roundTripTime == nil)

        let streamCount = 50
        let length = 1024 * 1024
        var clientRecorders: [StreamRecorder] = []
        var streams: [any Channel] = []
        for _ in 0..<streamCount {
            let recorder = StreamRecorder()
            clientRecorders.append(recorder)
            streams.append(try pair.clientSession.openStream { $0.addRecorder(recorder) }.wait())
        }
        // The first stream on each side (ours opened, theirs accepted) sent a ping with it.
        try pair.interact()
        #expect(pair.clientHandler.roundTripTime == .milliseconds(2))
        #expect(pair.serverHandler.roundTripTime == .milliseconds(2))
        for (index, stream) in streams.enumerated() {
            var data = payload(index: index, length: length)
            // Several writes per stream, flushed together, then FIN.
            while data.readableBytes > 0 {
                stream.write(data.readSlice(length: min(data.readableBytes, 100_000))!, promise: nil)
            }
            stream.flush()
            stream.close(mode: .output, promise: nil)
        }
        try pair.interact()

        for (index, recorder) in clientRecorders.enumerated() {
            #expect(recorder.received == payload(index: index, length: length), "stream \(index)")
            #expect(recorder.inputClosed)
            #expect(recorder.inactive)
            #expect(recorder.errors.isEmpty)
        }
        #expect(recorders.all.count == streamCount)
        #expect(recorders.all.allSatisfy { $0.received.readableBytes == length && $0.inactive })
        #expect(pair.clientHandler.streamCount == 0)
        #expect(pair.serverHandler.streamCount == 0)
        // Readers kept up within four round trips, so receive windows grew past 256 KiB.
        #expect(pair.serverHandler.largestReceiveWindow > YamuxConfiguration.initialStreamWindow)
        #expect(pair.clientHandler.largestReceiveWindow > YamuxConfiguration.initialStreamWindow)
        #expect(try pair.finishCleanly())
    }

    @Test("a reader that does not read holds the sender at the 256 KiB window until it reads")
    func flowControlBackpressure() throws {
        let recorders = Recorders()
        var serverConfiguration = Self.noKeepalive()
        Self.recordInbound(recorders, into: &serverConfiguration, autoRead: false)
        var clientConfiguration = Self.noKeepalive()
        clientConfiguration.outboundBufferHighWatermark = 512 * 1024
        clientConfiguration.outboundBufferLowWatermark = 128 * 1024
        let pair = try BackToBackYamux(
            clientConfiguration: clientConfiguration,
            serverConfiguration: serverConfiguration
        )
        let stream = try pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        let length = 1024 * 1024
        let writeDone = stream.writeAndFlush(payload(index: 7, length: length))
        #expect(!stream.isWritable)
        try pair.interact()
        let reader = try #require(recorders.all.first)
        #expect(reader.received.readableBytes == 0)
        #expect(pair.serverHandler.streamCount == 1)

        // Each read() delivers what arrived (at most a window) and reopens the window.
        var readCalls = 0
        while reader.received.readableBytes < length {
            let before = reader.received.readableBytes
            try #require(reader.channel).read()
            try pair.interact()
            readCalls += 1
            #expect(reader.received.readableBytes - before <= YamuxConfiguration.initialStreamWindow)
            if readCalls > 100 { break }
        }
        #expect(reader.received == payload(index: 7, length: length))
        #expect(readCalls >= 4)
        #expect(succeeded(writeDone))
        #expect(stream.isWritable)
    }

    @Test("a larger initial receive window lets the sender send that much before the reader reads")
    func largerInitialWindow() throws {
        let recorders = Recorders()
        var serverConfiguration = Self.noKeepalive()
        serverConfiguration.initialReceiveWindow = 1024 * 1024
        Self.recordInbound(recorders, into: &serverConfiguration, autoRead: false)
        let pair = try BackToBackYamux(
            clientConfiguration: Self.noKeepalive(),
            serverConfiguration: serverConfiguration
        )
        let stream = try pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        let write = stream.writeAndFlush(payload(index: 3, length: 1024 * 1024))
        try pair.interact()
        // Everything left the client although nobody read: the ACK granted the extra 768 KiB.
        #expect(succeeded(write))
        let reader = try #require(recorders.all.first)
        try #require(reader.channel).read()
        try pair.interact()
        #expect(reader.received == payload(index: 3, length: 1024 * 1024))
    }

    @Test("close() still sends the pending writes, then FIN (close implies flush)")
    func closeImpliesFlush() throws {
        let recorders = Recorders()
        var serverConfiguration = Self.noKeepalive()
        Self.recordInbound(recorders, into: &serverConfiguration)
        let pair = try BackToBackYamux(
            clientConfiguration: Self.noKeepalive(),
            serverConfiguration: serverConfiguration
        )
        let stream = try pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        let length = 2 * 1024 * 1024
        let write = stream.writeAndFlush(payload(index: 11, length: length))
        stream.close(promise: nil)
        #expect(!stream.isActive)
        try pair.interact()
        #expect(succeeded(write))
        let reader = try #require(recorders.all.first)
        #expect(reader.received == payload(index: 11, length: length))
        #expect(reader.inputClosed)
        // The server has not closed its side yet, so the stream is still live on both ends.
        #expect(pair.clientHandler.streamCount == 1)
        try #require(reader.channel).close(mode: .output, promise: nil)
        try pair.interact()
        #expect(pair.clientHandler.streamCount == 0)
        #expect(pair.serverHandler.streamCount == 0)
        #expect(reader.inactive)
    }

    @Test("data sent to a stream we closed is dropped and its window handed back")
    func readAfterCloseIsDiscarded() throws {
        let recorders = Recorders()
        var serverConfiguration = Self.noKeepalive()
        Self.recordInbound(recorders, into: &serverConfiguration)
        let pair = try BackToBackYamux(
            clientConfiguration: Self.noKeepalive(),
            serverConfiguration: serverConfiguration
        )
        let recorder = StreamRecorder()
        let stream = try pair.clientSession.openStream { $0.addRecorder(recorder) }.wait()
        try pair.interact()
        try stream.close().wait()
        try pair.interact()
        let serverRecorder = try #require(recorders.all.first)
        let server = try #require(serverRecorder.channel)
        // Eight windows: they only get through because the closed reader hands the window back.
        let write = server.writeAndFlush(payload(index: 5, length: 2 * 1024 * 1024))
        server.close(mode: .output, promise: nil)
        try pair.interact()
        #expect(succeeded(write))
        #expect(recorder.received.readableBytes == 0)
        #expect(pair.clientHandler.streamCount == 0)
        #expect(pair.serverHandler.streamCount == 0)
    }

    @Test("stream channels follow the connection's writability")
    func parentWritability() throws {
        let pair = try BackToBackYamux(clientConfiguration: Self.noKeepalive(), serverConfiguration: Self.noKeepalive())
        let stream = try pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        #expect(stream.isWritable)
        pair.client.isWritable = false
        pair.client.pipeline.fireChannelWritabilityChanged()
        #expect(!stream.isWritable)
        pair.client.isWritable = true
        pair.client.pipeline.fireChannelWritabilityChanged()
        #expect(stream.isWritable)
    }

    @Test("Go Away: the peer refuses new streams, open streams continue")
    func goAway() throws {
        let recorders = Recorders()
        let pair = try BackToBackYamux(serverConfiguration: Self.echoServer(recorders, base: Self.noKeepalive()))
        let recorder = StreamRecorder()
        let stream = try pair.clientSession.openStream { $0.addRecorder(recorder) }.wait()
        try pair.interact()
        pair.serverSession.goAway()
        try pair.interact()
        let refused = pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }
        #expect(throws: YamuxError(code: .sessionClosed, message: "")) { try refused.wait() }
        stream.writeAndFlush(ByteBuffer(string: "still here"), promise: nil)
        try pair.interact()
        #expect(recorder.received == ByteBuffer(string: "still here"))
    }

    @Test("a local reset sends RST: the peer's stream fails with streamReset")
    func localReset() throws {
        let recorders = Recorders()
        let pair = try BackToBackYamux(serverConfiguration: Self.echoServer(recorders, base: Self.noKeepalive()))
        let stream = try pair.clientSession.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        stream.writeAndFlush(ByteBuffer(string: "x"), promise: nil)
        try pair.interact()
        try stream.triggerUserOutboundEvent(YamuxResetStreamEvent()).wait()
        #expect(!stream.isActive)
        try pair.interact()
        let peer = try #require(recorders.all.first)
        #expect(peer.errors.contains { ($0 as? YamuxError)?.code == .streamReset })
        #expect(peer.inactive)
        #expect(pair.clientHandler.streamCount == 0)
        #expect(pair.serverHandler.streamCount == 0)
    }

    @Test("streams over the session's buffered-bytes cap are reset while the others survive")
    func bufferedBytesCap() throws {
        let recorders = Recorders()
        var serverConfiguration = Self.noKeepalive()
        serverConfiguration.maximumBufferedBytes = 300 * 1024
        Self.recordInbound(recorders, into: &serverConfiguration, autoRead: false)
        let pair = try BackToBackYamux(
            clientConfiguration: Self.noKeepalive(),
            serverConfiguration: serverConfiguration
        )
        let first = StreamRecorder()
        let second = StreamRecorder()
        let a = try pair.clientSession.openStream { $0.addRecorder(first) }.wait()
        let b = try pair.clientSession.openStream { $0.addRecorder(second) }.wait()
        let writeA = a.writeAndFlush(payload(index: 1, length: 200 * 1024))
        let writeB = b.writeAndFlush(payload(index: 2, length: 200 * 1024))
        try pair.interact()
        #expect(succeeded(writeA))
        // B's bytes all left within its send window, so its write succeeded; the server then reset it.
        #expect(succeeded(writeB))
        #expect(!b.isActive)
        #expect(second.errors.contains { ($0 as? YamuxError)?.code == .streamReset })
        #expect(a.isActive)
        #expect(pair.serverHandler.streamCount == 1)
    }
}

/// Recorders created by inbound stream initializers (which run on the embedded loop).
final class Recorders: @unchecked Sendable {
    // @unchecked: touched only on the embedded event loop of the test.
    private(set) var all: [StreamRecorder] = []

    func append(_ recorder: StreamRecorder) {
        self.all.append(recorder)
    }
}
