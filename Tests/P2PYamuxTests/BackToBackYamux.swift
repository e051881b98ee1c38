import NIOCore
import NIOEmbedded
import P2PYamux
import TestSupport

@testable import P2PYamux

/// Two Yamux sessions on `EmbeddedChannel`s sharing one `EmbeddedEventLoop`, wired back to back in memory.
final class BackToBackYamux {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientSession: YamuxSession
    let serverSession: YamuxSession
    let clientHandler: YamuxHandler
    let serverHandler: YamuxHandler
    /// Virtual time each one-way transfer takes; a non-zero value gives a round-trip time.
    var oneWayDelay: TimeAmount

    init(
        clientConfiguration: YamuxConfiguration = YamuxConfiguration(),
        serverConfiguration: YamuxConfiguration = YamuxConfiguration(),
        oneWayDelay: TimeAmount = .zero
    ) throws {
        self.oneWayDelay = oneWayDelay
        self.client = EmbeddedChannel(loop: self.loop)
        self.server = EmbeddedChannel(loop: self.loop)
        self.clientSession = try self.client.pipeline.syncOperations.configureYamux(
            role: .client,
            configuration: clientConfiguration
        )
        self.serverSession = try self.server.pipeline.syncOperations.configureYamux(
            role: .server,
            configuration: serverConfiguration
        )
        self.clientHandler = try self.client.pipeline.syncOperations.handler(type: YamuxHandler.self)
        self.serverHandler = try self.server.pipeline.syncOperations.handler(type: YamuxHandler.self)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try self.client.connect(to: address).wait()
        try self.server.connect(to: address).wait()
    }

    /// Moves bytes both ways until neither side has anything to send. Returns the number of rounds.
    @discardableResult
    func interact(maximumRounds: Int = 1_000_000) throws -> Int {
        var rounds = 0
        while rounds < maximumRounds {
            self.loop.run()
            let fromClient = try Self.drain(self.client)
            let fromServer = try Self.drain(self.server)
            if fromClient == nil && fromServer == nil {
                return rounds
            }
            rounds += 1
            if self.oneWayDelay > .zero {
                self.loop.advanceTime(by: self.oneWayDelay)
            }
            if let fromClient, self.server.isActive {
                try self.server.writeInbound(fromClient)
            }
            if let fromServer, self.client.isActive {
                try self.client.writeInbound(fromServer)
            }
        }
        throw TestFailure("still busy after \(maximumRounds) rounds")
    }

    /// Closes both connections and checks that each sent exactly a normal Go Away and nothing else is left.
    func finishCleanly() throws -> Bool {
        var clean = true
        for channel in [self.client, self.server] {
            channel.close(promise: nil)
            self.loop.run()
            let leftover = try Self.drain(channel)
            var expected = ByteBuffer()
            YamuxFrameHeader.goAway(.normal).write(to: &expected)
            clean = clean && leftover == expected
            let finished = try channel.finish(acceptAlreadyClosed: true).isClean
            clean = clean && finished
        }
        return clean
    }

    private static func drain(_ channel: EmbeddedChannel) throws -> ByteBuffer? {
        var collected: ByteBuffer?
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            if collected == nil {
                collected = buffer
            } else {
                collected!.writeImmutableBuffer(buffer)
            }
        }
        return collected
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Collects everything a stream channel reads, and records the peer's FIN, errors and closure.
final class StreamRecorder: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: touched only on the embedded event loop of the test.
    typealias InboundIn = ByteBuffer

    var received = ByteBuffer()
    var reads = 0
    var inputClosed = false
    var errors: [any Error] = []
    var inactive = false
    var channel: (any Channel)?
    let echo: Bool

    init(echo: Bool = false) {
        self.echo = echo
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.channel = context.channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        self.reads += 1
        self.received.writeBuffer(&buffer)
        if self.echo {
            context.write(data, promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.echo {
            context.flush()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed = event as? ChannelEvent {
            self.inputClosed = true
            if self.echo {
                context.close(mode: .output, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inactive = true
    }
}

extension Channel {
    /// Adds `handler` synchronously (embedded loop only).
    func addRecorder(_ recorder: StreamRecorder) -> EventLoopFuture<Void> {
        self.eventLoop.makeCompletedFuture {
            try self.pipeline.syncOperations.addHandler(recorder)
        }
    }
}

/// 2 MiB of seeded pseudo-random bytes, generated once.
private let payloadSource: ByteBuffer = {
    var generator = SplitMix64(seed: 2024)
    let words = (0..<(256 * 1024)).map { _ in generator.next() }
    return words.withUnsafeBytes { ByteBuffer(bytes: $0) }
}()

/// Deterministic payload bytes for stream `index` (a different window of the shared source per stream).
func payload(index: Int, length: Int) -> ByteBuffer {
    precondition(length <= payloadSource.readableBytes)
    let offset = (index &* 7919) % payloadSource.readableBytes
    var buffer = ByteBuffer()
    buffer.reserveCapacity(length)
    let first = min(length, payloadSource.readableBytes - offset)
    buffer.writeImmutableBuffer(payloadSource.getSlice(at: offset, length: first)!)
    if first < length {
        buffer.writeImmutableBuffer(payloadSource.getSlice(at: 0, length: length - first)!)
    }
    return buffer
}

/// Whether an embedded-loop future has completed successfully, without blocking on it.
func succeeded(_ future: EventLoopFuture<Void>) -> Bool {
    final class Box: @unchecked Sendable {
        // @unchecked: set and read on the embedded event loop of the test only.
        var value = false
    }
    let box = Box()
    future.whenSuccess { box.value = true }
    return box.value
}
