import Crypto
import NIOCore
import NIOEmbedded
import P2PCore
import TestSupport
import Testing

@testable import P2PNoise

/// Sits after the Noise handler: collects plaintext, handshake events and errors.
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var received = ByteBuffer()
    var readCount = 0
    var completions: [NoiseHandshakeCompleted] = []
    var errors: [any Error] = []
    /// The order in which things arrived: "completed", "read", "error".
    var timeline: [String] = []

    var noiseErrorCodes: [NoiseError.Code] { self.errors.compactMap { ($0 as? NoiseError)?.code } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        self.readCount += 1
        self.timeline.append("read")
        self.received.writeBuffer(&buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? NoiseHandshakeCompleted {
            self.completions.append(completed)
            self.timeline.append("completed")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.errors.append(error)
        self.timeline.append("error")
    }
}

/// Two embedded channels on one loop, each with a Noise handler, wired back to back by hand.
struct NoisePair {
    let loop = EmbeddedEventLoop()
    let initiator: EmbeddedChannel
    let responder: EmbeddedChannel
    let initiatorRecorder = RecordingHandler()
    let responderRecorder = RecordingHandler()
    let initiatorHandshake: EventLoopFuture<NoiseHandshakeResult>
    let responderHandshake: EventLoopFuture<NoiseHandshakeResult>

    init(initiatorExpects expected: PeerID? = nil, connect: Bool = true) throws {
        self.initiator = EmbeddedChannel(loop: self.loop)
        self.responder = EmbeddedChannel(loop: self.loop)
        self.initiatorHandshake = try Self.install(
            on: self.initiator,
            role: .initiator,
            configuration: TestKeys.initiatorConfiguration,
            ephemeralKey: TestKeys.initiatorEphemeral,
            expected: expected,
            recorder: self.initiatorRecorder
        )
        self.responderHandshake = try Self.install(
            on: self.responder,
            role: .responder,
            configuration: TestKeys.responderConfiguration,
            ephemeralKey: TestKeys.responderEphemeral,
            expected: nil,
            recorder: self.responderRecorder
        )
        if connect {
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4001)
            try self.responder.connect(to: address).wait()
            try self.initiator.connect(to: address).wait()
        }
    }

    private static func install(
        on channel: EmbeddedChannel,
        role: NoiseRole,
        configuration: NoiseConfiguration,
        ephemeralKey: Curve25519.KeyAgreement.PrivateKey,
        expected: PeerID?,
        recorder: RecordingHandler
    ) throws -> EventLoopFuture<NoiseHandshakeResult> {
        let promise = channel.eventLoop.makePromise(of: NoiseHandshakeResult.self)
        let handler = NoiseHandler(
            role: role,
            configuration: configuration,
            ephemeralKey: ephemeralKey,
            expectedRemotePeer: expected,
            handshakePromise: promise,
            logger: NoiseHandler.disabledLogger
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(recorder)
        return promise.futureResult
    }

    /// Moves every pending outbound buffer to the other side until both are quiet.
    func interact() throws {
        var moved = true
        while moved {
            moved = false
            while let bytes = try self.initiator.readOutbound(as: ByteBuffer.self) {
                try self.responder.writeInbound(bytes)
                moved = true
            }
            while let bytes = try self.responder.readOutbound(as: ByteBuffer.self) {
                try self.initiator.writeInbound(bytes)
                moved = true
            }
        }
    }

    /// Like ``interact()``, but delivers every byte in its own read.
    func interactOneByteAtATime() throws {
        var moved = true
        while moved {
            moved = false
            for (from, to) in [(self.initiator, self.responder), (self.responder, self.initiator)] {
                while var bytes = try from.readOutbound(as: ByteBuffer.self) {
                    while let byte = bytes.readSlice(length: 1) {
                        try to.writeInbound(byte)
                    }
                    moved = true
                }
            }
        }
    }

    /// All outbound bytes of `channel`, concatenated.
    static func drainOutbound(_ channel: EmbeddedChannel) throws -> ByteBuffer {
        var all = ByteBuffer()
        while var bytes = try channel.readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&bytes)
        }
        return all
    }
}

@Suite("NoiseHandler on back-to-back embedded channels")
struct NoiseHandlerTests {
    static func pattern(_ count: Int, seed: Int = 0) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 2_654_435_761 >> 13) })
    }

    @Test("Both sides complete the handshake, learn the remote peer ID and fire one event")
    func handshakeCompletes() throws {
        let pair = try NoisePair(initiatorExpects: TestKeys.responderPeerID)
        try pair.interact()
        let initiatorResult = try pair.initiatorHandshake.wait()
        let responderResult = try pair.responderHandshake.wait()
        #expect(initiatorResult.remotePeerID == TestKeys.responderPeerID)
        #expect(responderResult.remotePeerID == TestKeys.initiatorPeerID)
        #expect(responderResult.remotePublicKey == TestKeys.initiatorIdentity.publicKey)
        #expect(pair.initiatorRecorder.completions.map(\.remotePeerID) == [TestKeys.responderPeerID])
        #expect(pair.responderRecorder.completions.map(\.remotePeerID) == [TestKeys.initiatorPeerID])
        #expect(pair.initiatorRecorder.errors.isEmpty && pair.responderRecorder.errors.isEmpty)
        #expect(try pair.initiator.finish().isClean)
        #expect(try pair.responder.finish().isClean)
    }

    @Test("The handshake and data survive delivery one byte at a time")
    func dripFeed() throws {
        let pair = try NoisePair()
        pair.initiator.writeAndFlush(ByteBuffer(string: "drip"), promise: nil)
        try pair.interactOneByteAtATime()
        #expect(try pair.initiatorHandshake.wait().remotePeerID == TestKeys.responderPeerID)
        #expect(try pair.responderHandshake.wait().remotePeerID == TestKeys.initiatorPeerID)
        #expect(String(buffer: pair.responderRecorder.received) == "drip")
        pair.responder.writeAndFlush(ByteBuffer(string: "drop"), promise: nil)
        try pair.interactOneByteAtATime()
        #expect(String(buffer: pair.initiatorRecorder.received) == "drop")
    }

    @Test("The initiator's first bytes are a 2-byte length 32 and its ephemeral key")
    func firstMessageOnTheWire() throws {
        let pair = try NoisePair()
        let first = try NoisePair.drainOutbound(pair.initiator)
        #expect(first.bytes == [0x00, 0x20] + Array(TestKeys.initiatorEphemeral.publicKey.rawRepresentation))
        #expect(try NoisePair.drainOutbound(pair.responder).readableBytes == 0)
    }

    @Test("A write larger than 65535 bytes is split into frames of at most 65535 bytes and arrives intact")
    func largeWritesSplit() throws {
        let pair = try NoisePair()
        try pair.interact()
        let message = Self.pattern(300_000)
        let writeDone = pair.initiator.writeAndFlush(message)
        let wire = try NoisePair.drainOutbound(pair.initiator)
        try writeDone.wait()
        var frames = wire
        var lengths: [Int] = []
        while let length = frames.readInteger(endianness: .big, as: UInt16.self) {
            lengths.append(Int(length))
            frames.moveReaderIndex(forwardBy: Int(length))
        }
        #expect(lengths == [65535, 65535, 65535, 65535, 300_000 - 4 * 65519 + 16])
        // Deliver in awkward pieces: frames straddle reads.
        var remaining = wire
        while remaining.readableBytes > 0 {
            let piece = remaining.readSlice(length: min(40_000, remaining.readableBytes))!
            try pair.responder.writeInbound(piece)
        }
        #expect(pair.responderRecorder.received == message)

        let reply = Self.pattern(70_000, seed: 5)
        pair.responder.writeAndFlush(reply, promise: nil)
        try pair.interact()
        #expect(pair.initiatorRecorder.received == reply)
        #expect(try pair.initiator.finish().isClean)
        #expect(try pair.responder.finish().isClean)
    }

    /// The lengths in the 2-byte prefixes of the frames in `wire`.
    static func frameLengths(_ wire: ByteBuffer) -> [Int] {
        var frames = wire
        var lengths: [Int] = []
        while let length = frames.readInteger(endianness: .big, as: UInt16.self) {
            lengths.append(Int(length))
            frames.moveReaderIndex(forwardBy: Int(length))
        }
        return lengths
    }

    @Test("Small writes flushed together leave as one frame, and every write's promise succeeds with it")
    func smallWritesShareAFrame() throws {
        let pair = try NoisePair()
        try pair.interact()
        let writes = (0..<10).map { pair.initiator.write(ByteBuffer(string: "message \($0);")) }
        let empty = pair.initiator.write(ByteBuffer())
        pair.initiator.flush()
        let wire = try NoisePair.drainOutbound(pair.initiator)
        let text = (0..<10).map { "message \($0);" }.joined()
        #expect(Self.frameLengths(wire) == [text.utf8.count + 16])
        for write in writes + [empty] {
            try write.wait()
        }
        try pair.responder.writeInbound(wire)
        #expect(String(buffer: pair.responderRecorder.received) == text)
    }

    /// A pair after the handshake, with a tap at the head of the initiator's pipeline that sees what its Noise handler
    /// passes on, flushed or not.
    static func tappedPair() throws -> (NoisePair, OutboundTap) {
        let pair = try NoisePair()
        try pair.interact()
        let tap = OutboundTap()
        try pair.initiator.pipeline.syncOperations.addHandler(tap, position: .first)
        return (pair, tap)
    }

    @Test("A header and its payload share a frame, sealed once full without a flush; a larger write is cut")
    func writesPackIntoFullFrames() throws {
        let (pair, tap) = try Self.tappedPair()
        let header = Self.pattern(12, seed: 1)
        let payload = Self.pattern(65_507, seed: 2)
        let headerWritten = pair.initiator.write(header)
        #expect(tap.writes.isEmpty, "a partial frame waits for the flush")
        let payloadWritten = pair.initiator.write(payload)
        #expect(tap.writes == [65_537], "a full frame is sealed at once, before any flush")
        let spans = pair.initiator.write(Self.pattern(70_000, seed: 3))
        #expect(tap.writes == [65_537, 65_537])
        let last = pair.initiator.write(Self.pattern(100, seed: 4))
        pair.initiator.flush()
        #expect(tap.writes == [65_537, 65_537, 70_000 - 65_519 + 100 + 18])
        let wire = try NoisePair.drainOutbound(pair.initiator)
        #expect(Self.frameLengths(wire) == [65_535, 65_535, 70_000 - 65_519 + 100 + 16])
        for write in [headerWritten, payloadWritten, spans, last] {
            try write.wait()
        }
        try pair.responder.writeInbound(wire)
        var expected = header
        for part in [payload, Self.pattern(70_000, seed: 3), Self.pattern(100, seed: 4)] {
            expected.writeImmutableBuffer(part)
        }
        #expect(pair.responderRecorder.received == expected)
    }

    @Test("A header whose payload does not fit the frame moves to the next frame with it; larger writes are not cut")
    func headersStayWithTheirPayload() throws {
        let (pair, tap) = try Self.tappedPair()
        // A short Yamux frame (the end of a write), then a full one: header, payload, header, payload.
        let writes = [Self.pattern(12, seed: 1), Self.pattern(464, seed: 2), Self.pattern(12, seed: 3)]
        for write in writes {
            pair.initiator.write(write, promise: nil)
        }
        #expect(tap.writes.isEmpty)
        let payload = Self.pattern(65_507, seed: 4)
        pair.initiator.write(payload, promise: nil)
        #expect(tap.writes == [12 + 464 + 18, 12 + 65_507 + 18], "the second header went with its payload")
        // A write that does not fit starts the next frame whole instead of filling this one.
        pair.initiator.write(Self.pattern(40_000, seed: 5), promise: nil)
        pair.initiator.write(Self.pattern(40_000, seed: 6), promise: nil)
        pair.initiator.flush()
        #expect(tap.writes.suffix(2) == [40_018, 40_018])
        try pair.responder.writeInbound(try NoisePair.drainOutbound(pair.initiator))
        var expected = ByteBuffer()
        for part in writes + [payload, Self.pattern(40_000, seed: 5), Self.pattern(40_000, seed: 6)] {
            expected.writeImmutableBuffer(part)
        }
        #expect(pair.responderRecorder.received == expected)
    }

    /// Bytes arrive in order, frames stay in bounds, a write that fits a frame is never cut, a small write goes with
    /// the larger one after it, and promises succeed in order.
    @Test("Random writes and flushes keep every packing rule")
    func randomWritesAndFlushes() throws {
        let chunk = NoiseTransportState.maximumPlaintextLength
        let source = Self.pattern(160_000)
        for seed in 0..<30 {
            var random = SplitMix64(seed: UInt64(seed))
            let pair = try NoisePair()
            try pair.interact()
            var sizes: [Int] = []
            var flushedAfter: Set<Int> = []
            var completed: [Int] = []
            var expected = ByteBuffer()
            let count = 50
            for index in 0..<count {
                let size: Int
                switch random.next() % 6 {
                case 0: size = 0
                case 1: size = Int(random.next() % 64) + 1
                case 2: size = Int(random.next() % 4_096) + 65
                case 3: size = chunk - 12 * Int(random.next() % 4 + 1)
                case 4: size = Int(random.next() % 150_000) + 4_096
                default: size = 12
                }
                let bytes = source.getSlice(at: (seed + index * 7) % 997, length: size)!
                expected.writeImmutableBuffer(bytes)
                pair.initiator.write(bytes).assumeIsolated().whenSuccess { completed.append(index) }
                sizes.append(size)
                if random.next() % 5 == 0 || index == count - 1 {
                    pair.initiator.flush()
                    flushedAfter.insert(index)
                }
            }
            let wire = try NoisePair.drainOutbound(pair.initiator)
            let lengths = Self.frameLengths(wire)
            #expect(lengths.allSatisfy { (17...65_535).contains($0) }, "seed \(seed)")
            var boundaries: Set<Int> = []
            var offset = 0
            for length in lengths {
                offset += length - 16
                boundaries.insert(offset)
            }
            var starts: [Int] = [0]
            for size in sizes {
                starts.append(starts.last! + size)
            }
            for (index, size) in sizes.enumerated() where size > 0 && size <= chunk {
                let (start, end) = (starts[index], starts[index + 1])
                #expect(!boundaries.contains { $0 > start && $0 < end }, "seed \(seed): write \(index) was cut")
            }
            for index in 0..<(count - 1) where !flushedAfter.contains(index) {
                let (size, next) = (sizes[index], sizes[index + 1])
                // A small write (a Yamux header) right before a larger one (its payload) that it fits a frame with.
                let small = 1...NoiseHandler.carriedWriteLength
                guard small.contains(size), next > small.upperBound, size + next <= chunk else { continue }
                #expect(!boundaries.contains(starts[index + 1]), "seed \(seed): write \(index) left without the next")
            }
            try pair.responder.writeInbound(wire)
            #expect(pair.responderRecorder.received == expected, "seed \(seed)")
            #expect(completed == Array(0..<count), "seed \(seed)")
        }
    }

    @Test("A write that spans frames completes with the last of them; a failed socket write fails every write in it")
    func promisesFollowTheirLastFrame() throws {
        let (pair, tap) = try Self.tappedPair()
        let first = pair.initiator.write(Self.pattern(100_000))
        let second = pair.initiator.write(Self.pattern(10))
        tap.failNextWrite = true
        pair.initiator.flush()
        #expect(tap.writes == [65_537, 100_000 - 65_519 + 10 + 18])
        // The first frame went out; the second, holding the end of both writes, failed.
        #expect(throws: OutboundTap.Failure.self) { try first.wait() }
        #expect(throws: OutboundTap.Failure.self) { try second.wait() }
    }

    @Test("Many small frames in one read are delivered as one plaintext read")
    func coalescedReads() throws {
        let pair = try NoisePair()
        try pair.interact()
        for index in 0..<10 {
            pair.initiator.write(ByteBuffer(string: "message \(index);"), promise: nil)
        }
        pair.initiator.flush()
        let wire = try NoisePair.drainOutbound(pair.initiator)
        try pair.responder.writeInbound(wire)
        #expect(String(buffer: pair.responderRecorder.received) == (0..<10).map { "message \($0);" }.joined())
        #expect(pair.responderRecorder.readCount == 1)
    }

    @Test("Writes made during the handshake are sent after it, in order, and their promises succeed")
    func writesDuringHandshake() throws {
        let pair = try NoisePair()
        let first = pair.initiator.write(ByteBuffer(string: "hello, "))
        let second = pair.initiator.writeAndFlush(ByteBuffer(string: "responder"))
        let early = pair.responder.writeAndFlush(ByteBuffer(string: "hi initiator"))
        try pair.interact()
        try first.wait()
        try second.wait()
        try early.wait()
        #expect(String(buffer: pair.responderRecorder.received) == "hello, responder")
        #expect(String(buffer: pair.initiatorRecorder.received) == "hi initiator")
    }

    @Test("Message 3 and pipelined data in one read: the event fires first, then the plaintext")
    func pipelinedDataAfterMessage3() throws {
        let pair = try NoisePair()
        pair.initiator.writeAndFlush(ByteBuffer(string: "early data"), promise: nil)
        try pair.responder.writeInbound(try NoisePair.drainOutbound(pair.initiator))
        try pair.initiator.writeInbound(try NoisePair.drainOutbound(pair.responder))
        // Message 3 and the encrypted early write, as one inbound buffer.
        let combined = try NoisePair.drainOutbound(pair.initiator)
        try pair.responder.writeInbound(combined)
        #expect(pair.responderRecorder.timeline == ["completed", "read"])
        #expect(String(buffer: pair.responderRecorder.received) == "early data")
        #expect(try pair.responderHandshake.wait().remotePeerID == TestKeys.initiatorPeerID)
    }

    @Test("A wrong expected peer ID fails the initiator: promise, pending writes, error event and close")
    func wrongPeerID() throws {
        let pair = try NoisePair(initiatorExpects: TestKeys.strangerPeerID)
        let pending = pair.initiator.writeAndFlush(ByteBuffer(string: "secret"))
        try pair.interact()
        let error = try #require(throws: NoiseError.self) { try pair.initiatorHandshake.wait() }
        #expect(error.code == .peerIDMismatch)
        #expect(throws: NoiseError.self) { try pending.wait() }
        #expect(pair.initiatorRecorder.noiseErrorCodes == [.peerIDMismatch])
        #expect(pair.initiatorRecorder.completions.isEmpty)
        #expect(!pair.initiator.isActive)
        // The responder never got message 3, so it is still waiting.
        #expect(pair.responderRecorder.completions.isEmpty)
        let late = pair.initiator.writeAndFlush(ByteBuffer(string: "more"))
        #expect(throws: (any Error).self) { try late.wait() }
    }

    @Test("Garbage before the handshake closes the responder with a clear error")
    func garbageBeforeHandshake() throws {
        for (garbage, code) in [
            ([0x00, 0x03, 0x01, 0x02, 0x03], NoiseError.Code.malformedHandshakeMessage),
            ([0x00, 0x20] + [UInt8](repeating: 0, count: 32), .invalidRemoteKey),
            // A multistream-select preamble read as a Noise length (0x132f), followed by more text.
            (
                Array("\u{13}/multistream/1.0.0\n".utf8) + [UInt8](repeating: 0x2F, count: 0x132F),
                .malformedHandshakeMessage
            ),
        ] {
            let pair = try NoisePair()
            try pair.responder.writeInbound(ByteBuffer(bytes: garbage))
            let error = try #require(throws: NoiseError.self) { try pair.responderHandshake.wait() }
            #expect(error.code == code)
            #expect(pair.responderRecorder.noiseErrorCodes == [code])
            #expect(!pair.responder.isActive)
            #expect(try NoisePair.drainOutbound(pair.responder).readableBytes == 0)
        }
    }

    @Test("Garbage in place of message 2 closes the initiator")
    func garbageDuringHandshake() throws {
        let pair = try NoisePair()
        _ = try NoisePair.drainOutbound(pair.initiator)
        var garbage = ByteBuffer()
        garbage.writeInteger(UInt16(150), endianness: .big)
        garbage.writeImmutableBuffer(Self.pattern(150))
        try pair.initiator.writeInbound(garbage)
        let error = try #require(throws: NoiseError.self) { try pair.initiatorHandshake.wait() }
        #expect(error.code == .decryptionFailed)
        #expect(!pair.initiator.isActive)
        // Bytes after the failure are ignored, not processed.
        try pair.initiator.writeInbound(garbage)
        #expect(pair.initiatorRecorder.errors.count == 1)
    }

    @Test("A tampered transport frame closes the connection and delivers nothing")
    func tamperedTransportFrame() throws {
        let pair = try NoisePair()
        try pair.interact()
        pair.initiator.writeAndFlush(ByteBuffer(string: "transfer 10 coins"), promise: nil)
        var wire = try NoisePair.drainOutbound(pair.initiator)
        let index = wire.readerIndex + 7
        wire.setInteger(wire.getInteger(at: index, as: UInt8.self)! ^ 0xFF, at: index)
        try pair.responder.writeInbound(wire)
        #expect(pair.responderRecorder.noiseErrorCodes == [.decryptionFailed])
        #expect(pair.responderRecorder.received.readableBytes == 0)
        #expect(!pair.responder.isActive)
    }

    @Test("A frame cut short by the end of the connection is reported as truncated")
    func truncatedFrameAtEOF() throws {
        let pair = try NoisePair()
        try pair.interact()
        pair.initiator.writeAndFlush(ByteBuffer(string: "whole message"), promise: nil)
        let wire = try NoisePair.drainOutbound(pair.initiator)
        try pair.responder.writeInbound(wire.getSlice(at: wire.readerIndex, length: 10)!)
        pair.responder.pipeline.fireChannelInactive()
        #expect(pair.responderRecorder.noiseErrorCodes == [.truncatedFrame])
        #expect(pair.responderRecorder.received.readableBytes == 0)
    }

    @Test("A connection that closes mid-handshake fails the handshake promise")
    func closedDuringHandshake() throws {
        let pair = try NoisePair()
        try pair.responder.writeInbound(try NoisePair.drainOutbound(pair.initiator))
        try pair.responder.close().wait()
        let error = try #require(throws: NoiseError.self) { try pair.responderHandshake.wait() }
        #expect(error.code == .handshakeIncomplete)
    }

    @Test("A half-closure during the handshake fails it; after the handshake it is passed on")
    func halfClosure() throws {
        let pair = try NoisePair()
        pair.responder.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let error = try #require(throws: NoiseError.self) { try pair.responderHandshake.wait() }
        #expect(error.code == .handshakeIncomplete)

        let established = try NoisePair()
        try established.interact()
        established.initiator.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(established.initiatorRecorder.errors.isEmpty)
        #expect(established.initiator.isActive)
    }

    @Test("configureNoise adds a working handler and its future reports the remote identity")
    func configureHelper() throws {
        let loop = EmbeddedEventLoop()
        let dialler = EmbeddedChannel(loop: loop)
        let listener = EmbeddedChannel(loop: loop)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4001)
        try dialler.connect(to: address).wait()
        try listener.connect(to: address).wait()
        let diallerResult = dialler.pipeline.configureNoise(
            role: .initiator,
            localKey: TestKeys.initiatorIdentity,
            expectedRemotePeer: TestKeys.responderPeerID
        )
        let listenerResult = try listener.pipeline.syncOperations.configureNoise(
            role: .responder,
            configuration: TestKeys.responderConfiguration
        )
        var moved = true
        while moved {
            moved = false
            while let bytes = try dialler.readOutbound(as: ByteBuffer.self) {
                try listener.writeInbound(bytes)
                moved = true
            }
            while let bytes = try listener.readOutbound(as: ByteBuffer.self) {
                try dialler.writeInbound(bytes)
                moved = true
            }
        }
        #expect(try diallerResult.wait().remotePeerID == TestKeys.responderPeerID)
        #expect(try listenerResult.wait().remotePeerID == TestKeys.initiatorPeerID)
        try dialler.writeAndFlush(ByteBuffer(string: "ping")).wait()
        try listener.writeInbound(try NoisePair.drainOutbound(dialler))
        #expect(try listener.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "ping")
    }

    @Test("Message 3 waits for the end of the read that completed the handshake, with what the completion wrote")
    func completionFlushesAtEndOfRead() throws {
        let pair = try NoisePair()
        // Behind the initiator's Noise: writes and flushes a greeting as soon as the handshake completes.
        try pair.initiator.pipeline.syncOperations.addHandler(
            GreetingHandler(),
            position: .before(pair.initiatorRecorder)
        )
        try pair.responder.writeInbound(try NoisePair.drainOutbound(pair.initiator))  // message 1
        let message2 = try NoisePair.drainOutbound(pair.responder)

        pair.initiator.pipeline.fireChannelRead(message2)
        #expect(pair.initiatorRecorder.completions.count == 1)
        #expect(try pair.initiator.readOutbound(as: ByteBuffer.self) == nil, "flushed before the read ended")
        pair.initiator.pipeline.fireChannelReadComplete()
        try pair.responder.writeInbound(try NoisePair.drainOutbound(pair.initiator))
        #expect(pair.responderRecorder.completions.count == 1)
        #expect(String(buffer: pair.responderRecorder.received) == "hello")
    }

    @Test("Replies written and flushed during a read burst leave together at its end, and before a close")
    func flushesOncePerReadBurst() throws {
        let pair = try NoisePair()
        try pair.interact()
        // Behind the responder's Noise: answers every read with two separately flushed writes.
        let answering = AnsweringHandler()
        try pair.responder.pipeline.syncOperations.addHandler(answering, position: .before(pair.responderRecorder))
        pair.initiator.writeAndFlush(ByteBuffer(string: "question"), promise: nil)
        let wire = try NoisePair.drainOutbound(pair.initiator)

        pair.responder.pipeline.fireChannelRead(wire)
        #expect(try pair.responder.readOutbound(as: ByteBuffer.self) == nil, "flushed before the burst ended")
        pair.responder.pipeline.fireChannelReadComplete()
        let burst = try NoisePair.drainOutbound(pair.responder)
        try pair.initiator.writeInbound(burst)
        #expect(String(buffer: pair.initiatorRecorder.received) == "first;second;")

        // A close inside the burst still sends what was flushed before it.
        answering.closeAfterAnswering = true
        pair.initiator.writeAndFlush(ByteBuffer(string: "again"), promise: nil)
        pair.responder.pipeline.fireChannelRead(try NoisePair.drainOutbound(pair.initiator))
        #expect(!pair.responder.isActive)
        try pair.initiator.writeInbound(try NoisePair.drainOutbound(pair.responder))
        #expect(String(buffer: pair.initiatorRecorder.received) == "first;second;first;second;")
    }
}

/// Answers each read with "first;" and "second;", each written and flushed on its own; optionally closes after.
final class AnsweringHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var closeAfterAnswering = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: "first;")), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: "second;")), promise: nil)
        if self.closeAfterAnswering {
            context.close(promise: nil)
        }
        context.fireChannelRead(data)
    }
}

/// Writes and flushes "hello" when the Noise handshake completes.
final class GreetingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is NoiseHandshakeCompleted {
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: "hello")), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Records the size of every buffer written through it (at the head of the pipeline); can fail the next one.
final class OutboundTap: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    struct Failure: Error {}

    var writes: [Int] = []
    var failNextWrite = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = Self.unwrapOutboundIn(data)
        self.writes.append(buffer.readableBytes)
        if self.failNextWrite {
            self.failNextWrite = false
            promise?.fail(Failure())
            return
        }
        context.write(data, promise: promise)
    }
}
