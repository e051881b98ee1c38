import NIOCore
import NIOEmbedded
import Testing

@testable import P2PYamux

/// Opening outbound streams: SYN goes out with the stream's first frame, so that a stream whose initializer writes at
/// once (a multistream-select proposal) costs one frame.
@Suite("Yamux handler, opening streams")
struct YamuxStreamOpeningTests {
    static func configuration(initialReceiveWindow: Int = YamuxConfiguration.initialStreamWindow) -> YamuxConfiguration
    {
        var configuration = YamuxConfiguration()
        configuration.keepaliveInterval = nil
        configuration.initialReceiveWindow = initialReceiveWindow
        return configuration
    }

    @Test("a stream whose initializer writes at once opens with one Data frame carrying SYN and the bytes")
    func synRidesOnFirstData() throws {
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration())
        _ = peer.session.openStream { channel in
            channel.writeAndFlush(ByteBuffer(string: "hello"))
        }
        peer.channel.embeddedEventLoop.run()
        let frames = try peer.writtenFrames()
        #expect(frames.map(\.header) == [.data(streamID: 1, flags: .syn, length: 5)])
        #expect(frames.first?.payload == ByteBuffer(string: "hello"))
    }

    @Test("a stream whose initializer writes nothing opens with a Window Update carrying SYN; later data has no SYN")
    func synAloneWithoutData() throws {
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration())
        let stream = try peer.session.openStream { $0.eventLoop.makeSucceededVoidFuture() }.wait()
        #expect(try peer.writtenFrames().map(\.header) == [.windowUpdate(streamID: 1, flags: .syn)])
        stream.writeAndFlush(ByteBuffer(string: "later"), promise: nil)
        #expect(try peer.writtenFrames().map(\.header) == [.data(streamID: 1, length: 5)])
    }

    @Test("closing the stream in its initializer sends SYN and FIN in one frame")
    func synWithFin() throws {
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration())
        _ = peer.session.openStream { channel in
            channel.close(mode: .output)
        }
        peer.channel.embeddedEventLoop.run()
        #expect(try peer.writtenFrames().map(\.header) == [.windowUpdate(streamID: 1, flags: [.syn, .fin])])
    }

    @Test("a larger receive window is announced by the SYN Window Update, before the data")
    func largerWindowAnnouncedFirst() throws {
        let window = 1 << 20
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration(initialReceiveWindow: window))
        _ = peer.session.openStream { channel in
            channel.writeAndFlush(ByteBuffer(string: "hi"))
        }
        peer.channel.embeddedEventLoop.run()
        #expect(
            try peer.writtenFrames().map(\.header) == [
                .windowUpdate(
                    streamID: 1,
                    flags: .syn,
                    delta: UInt32(window - YamuxConfiguration.initialStreamWindow)
                ),
                .data(streamID: 1, length: 2),
            ]
        )
    }

    @Test("a stream whose initializer fails is never announced: no SYN, no RST")
    func failedInitializerSendsNothing() throws {
        struct Refused: Error {}
        let peer = try RawYamuxPeer(role: .client, configuration: Self.configuration())
        let opened = peer.session.openStream { $0.eventLoop.makeFailedFuture(Refused()) }
        peer.channel.embeddedEventLoop.run()
        #expect(throws: Refused.self) { try opened.wait() }
        #expect(try peer.writtenFrames().isEmpty)
        // The next stream still opens normally.
        _ = peer.session.openStream { $0.writeAndFlush(ByteBuffer(string: "x")) }
        peer.channel.embeddedEventLoop.run()
        #expect(try peer.writtenFrames().map(\.header) == [.data(streamID: 3, flags: .syn, length: 1)])
    }
}
