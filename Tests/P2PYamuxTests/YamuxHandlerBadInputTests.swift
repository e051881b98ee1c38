import NIOCore
import NIOEmbedded
import Testing

@testable import P2PYamux

/// One Yamux session on an `EmbeddedChannel`, driven with hand-made frames.
struct RawYamuxPeer {
    let channel: EmbeddedChannel
    let session: YamuxSession

    init(role: YamuxRole, configuration: YamuxConfiguration, loop: EmbeddedEventLoop = EmbeddedEventLoop()) throws {
        self.channel = EmbeddedChannel(loop: loop)
        self.session = try self.channel.pipeline.syncOperations.configureYamux(role: role, configuration: configuration)
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func send(_ header: YamuxFrameHeader, payload: ByteBuffer? = nil) throws {
        try self.channel.writeInbound(YamuxFrameEncoder.encode(header, payload: payload, allocator: .init()))
    }

    /// Every frame the session wrote so far.
    func writtenFrames() throws -> [YamuxFrame] {
        var bytes = ByteBuffer()
        while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            bytes.writeBuffer(&buffer)
        }
        var frames: [YamuxFrame] = []
        let decoder = YamuxFrameDecoder()
        while let frame = try decoder.decodeFrame(from: &bytes) {
            frames.append(frame)
        }
        return frames
    }
}

@Suite("Yamux handler, bad input and dead peers")
struct YamuxHandlerBadInputTests {
    static func configuration(maximumStreams: Int = 512) -> YamuxConfiguration {
        var configuration = YamuxConfiguration()
        configuration.keepaliveInterval = nil
        configuration.maximumConcurrentStreams = maximumStreams
        configuration.inboundStreamInitializer = { $0.eventLoop.makeSucceededVoidFuture() }
        return configuration
    }

    /// Pings after 30 s of silence, closes 10 s after an unanswered ping.
    static func keepaliveConfiguration() -> YamuxConfiguration {
        var configuration = Self.configuration()
        configuration.keepaliveInterval = .seconds(30)
        configuration.keepaliveTimeout = .seconds(10)
        return configuration
    }

    @Test("a header with a bad version closes the session with Go Away protocol error")
    func garbageHeader() throws {
        let peer = try RawYamuxPeer(role: .server, configuration: Self.configuration())
        let garbage = ByteBuffer(bytes: [0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00])
        #expect(throws: YamuxError(code: .unsupportedVersion, message: "")) {
            try peer.channel.writeInbound(garbage)
        }
        #expect(try peer.writtenFrames().map(\.header) == [.goAway(.protocolError)])
        #expect(!peer.channel.isActive)
    }

    @Test("an oversized data frame closes the session with Go Away protocol error")
    func oversizedFrame() throws {
        var configuration = Self.configuration()
        configuration.maximumInboundDataFrameLength = 1000
        let peer = try RawYamuxPeer(role: .server, configuration: configuration)
        #expect(throws: YamuxError(code: .frameTooLarge, message: "")) {
            try peer.send(.data(streamID: 1, flags: .syn, length: 1001), payload: ByteBuffer(repeating: 0, count: 1001))
        }
        #expect(try peer.writtenFrames().map(\.header) == [.goAway(.protocolError)])
        #expect(!peer.channel.isActive)
    }

    @Test("data beyond the receive window closes the session with Go Away protocol error")
    func windowViolation() throws {
        var configuration = Self.configuration()
        // The reader never reads, so the window is never reopened.
        configuration.inboundStreamInitializer = { $0.setOption(ChannelOptions.autoRead, value: false) }
        let peer = try RawYamuxPeer(role: .server, configuration: configuration)
        let chunk = ByteBuffer(repeating: 1, count: 65_536)
        try peer.send(.data(streamID: 1, flags: .syn, length: 65_536), payload: chunk)
        for _ in 0..<3 {
            try peer.send(.data(streamID: 1, length: 65_536), payload: chunk)
        }
        // 256 KiB sent without any window update: one more byte is a violation.
        #expect(throws: YamuxError(code: .receiveWindowExceeded, message: "")) {
            try peer.send(.data(streamID: 1, length: 1), payload: ByteBuffer(bytes: [1]))
        }
        let headers = try peer.writtenFrames().map(\.header)
        #expect(headers.first == .windowUpdate(streamID: 1, flags: .ack))
        #expect(headers.last == .goAway(.protocolError))
        #expect(!peer.channel.isActive)
    }

    @Test("a stream opened with our own parity closes the session with Go Away protocol error")
    func wrongParity() throws {
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration())
        #expect(throws: YamuxError(code: .invalidStreamID, message: "")) {
            try peer.send(.windowUpdate(streamID: 1, flags: .syn))
        }
        #expect(try peer.writtenFrames().map(\.header) == [.goAway(.protocolError)])
    }

    @Test("SYNs beyond the stream limit are answered with RST; the session stays up")
    func tooManyStreams() throws {
        let peer = try RawYamuxPeer(role: .server, configuration: Self.configuration(maximumStreams: 2))
        try peer.send(.windowUpdate(streamID: 1, flags: .syn))
        try peer.send(.windowUpdate(streamID: 3, flags: .syn))
        try peer.send(.data(streamID: 5, flags: .syn, length: 3), payload: ByteBuffer(bytes: [1, 2, 3]))
        #expect(
            try peer.writtenFrames().map(\.header) == [
                .windowUpdate(streamID: 1, flags: .ack),
                .windowUpdate(streamID: 3, flags: .ack),
                .windowUpdate(streamID: 5, flags: .rst),
            ]
        )
        #expect(peer.channel.isActive)
        // Once a stream ends, a new one is accepted.
        try peer.send(.windowUpdate(streamID: 1, flags: .rst))
        try peer.send(.windowUpdate(streamID: 7, flags: .syn))
        #expect(try peer.writtenFrames().map(\.header) == [.windowUpdate(streamID: 7, flags: .ack)])
    }

    @Test("a failing inbound stream initializer resets that stream only")
    func failingInitializer() throws {
        var configuration = Self.configuration()
        configuration.inboundStreamInitializer = { channel in
            channel.eventLoop.makeFailedFuture(TestFailure("no handler for this stream"))
        }
        let peer = try RawYamuxPeer(role: .server, configuration: configuration)
        try peer.send(.windowUpdate(streamID: 1, flags: .syn))
        #expect(
            try peer.writtenFrames().map(\.header) == [
                .windowUpdate(streamID: 1, flags: .ack),
                .windowUpdate(streamID: 1, flags: .rst),
            ]
        )
        #expect(peer.channel.isActive)
        // Late data for the reset stream is ignored.
        try peer.send(.data(streamID: 1, length: 2), payload: ByteBuffer(bytes: [1, 2]))
        #expect(try peer.writtenFrames().isEmpty)
    }

    @Test("pings are answered with the same opaque value")
    func pingAnswered() throws {
        let peer = try RawYamuxPeer(role: .server, configuration: Self.configuration())
        try peer.send(.ping(opaque: 0xDEAD_BEEF, ack: false))
        #expect(try peer.writtenFrames().map(\.header) == [.ping(opaque: 0xDEAD_BEEF, ack: true)])
    }

    @Test("a peer that never answers a ping is closed after the keepalive timeout")
    func deadPeer() throws {
        let loop = EmbeddedEventLoop()
        let peer = try RawYamuxPeer(role: .client, configuration: Self.keepaliveConfiguration(), loop: loop)
        let channel = peer.channel
        // No ping before a stream: the peer's stream brings the first one, after the ACK.
        #expect(try peer.writtenFrames().isEmpty)
        try peer.send(.windowUpdate(streamID: 2, flags: .syn))
        let opened = try peer.writtenFrames().map(\.header)
        #expect(opened.count == 2)
        #expect(opened.first?.flags == .ack)
        #expect(opened.last == .ping(opaque: 1, ack: false))

        // The peer answers the first ping, then goes silent.
        try peer.send(.ping(opaque: 1, ack: true))
        loop.advanceTime(by: .seconds(30))
        #expect(try peer.writtenFrames().map(\.header) == [.ping(opaque: 2, ack: false)])
        loop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        #expect(try peer.writtenFrames().map(\.header) == [.goAway(.normal)])
        #expect(throws: YamuxError(code: .keepaliveTimeout, message: "")) {
            try channel.throwIfErrorCaught()
        }
    }

    @Test("a session without streams sends no ping until the keepalive interval; then a silent peer is closed")
    func noPingWithoutStreams() throws {
        let loop = EmbeddedEventLoop()
        let peer = try RawYamuxPeer(role: .server, configuration: Self.keepaliveConfiguration(), loop: loop)
        loop.advanceTime(by: .seconds(29))
        #expect(try peer.writtenFrames().isEmpty)
        loop.advanceTime(by: .seconds(1))
        #expect(try peer.writtenFrames().map(\.header) == [.ping(opaque: 1, ack: false)])
        loop.advanceTime(by: .seconds(10))
        #expect(!peer.channel.isActive)
    }

    @Test("the first stream we open carries the first ping in the same flush; the second stream sends none")
    func firstOutboundStreamPings() throws {
        var configuration = Self.configuration()
        configuration.keepaliveInterval = .seconds(30)
        let peer = try RawYamuxPeer(role: .client, configuration: configuration)
        _ = try peer.session.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        let first = try peer.writtenFrames().map(\.header)
        #expect(first.count == 2)
        #expect(first.first?.streamID == 1)
        #expect(first.first?.flags == .syn)
        #expect(first.last == .ping(opaque: 1, ack: false))
        _ = try peer.session.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        #expect(try peer.writtenFrames().map(\.header).map(\.type) == [.windowUpdate])
    }

    @Test("when the connection drops, open streams fail and further writes on them fail")
    func connectionDrop() throws {
        let peer = try RawYamuxPeer(role: .server, configuration: Self.configuration())
        let recorder = StreamRecorder()
        let stream = try peer.session.openStream { $0.addRecorder(recorder) }.wait()
        #expect(stream.isActive)
        try peer.channel.close().wait()
        #expect(!stream.isActive)
        #expect(recorder.inactive)
        #expect(recorder.errors.contains { ($0 as? YamuxError)?.code == .sessionClosed })
        let write = stream.writeAndFlush(ByteBuffer(string: "late"))
        #expect(throws: (any Error).self) { try write.wait() }
        let again = peer.session.openStream { $0.eventLoop.makeSucceededVoidFuture() }
        #expect(throws: YamuxError(code: .sessionClosed, message: "")) { try again.wait() }
    }
}
