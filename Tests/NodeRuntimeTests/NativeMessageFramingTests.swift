import NodeRuntime
import Testing

@Suite("Native messaging framing")
struct NativeMessageFramingTests {
    private static func framed(_ text: String) throws -> [UInt8] {
        try NativeMessageFraming.frame(Array(text.utf8))
    }

    private static func drain(_ decoder: inout NativeMessageFrameDecoder) -> [NativeMessageFrameDecoder.Event] {
        var events: [NativeMessageFrameDecoder.Event] = []
        while let event = decoder.next() { events.append(event) }
        return events
    }

    @Test("The prefix is the length as a native-order 32-bit integer")
    func prefix() throws {
        let bytes = try Self.framed(#"{"type":"getStatus"}"#)
        let length = bytes.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        #expect(length == 20 && bytes.count == 24)
    }

    @Test("Messages fed one byte at a time come out whole and in order")
    func byteByByte() throws {
        let texts = [#"{"type":"getStatus","id":1}"#, "", #"{"type":"getStats"}"#]
        let stream = try texts.flatMap { try Self.framed($0) }
        var decoder = NativeMessageFrameDecoder()
        var events: [NativeMessageFrameDecoder.Event] = []
        for byte in stream {
            decoder.append([byte])
            events += Self.drain(&decoder)
        }
        #expect(events == texts.map { .message(Array($0.utf8)) })
        #expect(decoder.finish() == .clean)
    }

    @Test("Several messages in one chunk, and a chunk that ends mid-prefix")
    func chunks() throws {
        let stream = try Self.framed("[1]") + Self.framed("[2]") + Self.framed("[3]")
        var decoder = NativeMessageFrameDecoder()
        decoder.append(stream[0..<9])  // the first frame and 2 bytes of the second prefix
        #expect(Self.drain(&decoder) == [.message(Array("[1]".utf8))])
        decoder.append(stream[9...])
        #expect(Self.drain(&decoder) == [.message(Array("[2]".utf8)), .message(Array("[3]".utf8))])
        #expect(decoder.finish() == .clean)
    }

    @Test("An oversized frame is reported once, its bytes skipped, and the next frame decodes")
    func oversized() throws {
        var decoder = NativeMessageFrameDecoder(maximumMessageBytes: 16)
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 40)
        decoder.append(withUnsafeBytes(of: UInt32(40)) { Array($0) } + big.prefix(10))
        #expect(Self.drain(&decoder) == [.oversized(length: 40)])
        #expect(decoder.finish() == .truncated(missingBytes: 30))
        decoder.append(big.suffix(30) + (try Self.framed("{}")))
        #expect(Self.drain(&decoder) == [.message(Array("{}".utf8))])
        #expect(decoder.finish() == .clean)
    }

    @Test("The default limit is 1 MiB: a frame of exactly 1 MiB passes, one byte more does not")
    func defaultLimit() {
        let limit = NativeMessageFraming.maximumIncomingBytes
        #expect(limit == 1_048_576)
        var decoder = NativeMessageFrameDecoder()
        decoder.append(withUnsafeBytes(of: UInt32(limit)) { Array($0) } + [UInt8](repeating: 0x20, count: limit))
        decoder.append(withUnsafeBytes(of: UInt32(limit + 1)) { Array($0) })
        let events = Self.drain(&decoder)
        #expect(events.count == 2)
        if case .message(let bytes) = events.first { #expect(bytes.count == limit) } else { Issue.record("no message") }
        #expect(events.last == .oversized(length: limit + 1))
        // A length of 4 GiB - 1 is skipped without allocating it.
        var huge = NativeMessageFrameDecoder()
        huge.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Self.drain(&huge) == [.oversized(length: Int(UInt32.max))])
    }

    @Test("Input that ends mid-prefix or mid-body is reported as truncated")
    func truncated() throws {
        var midPrefix = NativeMessageFrameDecoder()
        midPrefix.append([5, 0])
        #expect(Self.drain(&midPrefix).isEmpty)
        #expect(midPrefix.finish() == .truncated(missingBytes: 2))
        var midBody = NativeMessageFrameDecoder()
        midBody.append(try Self.framed(#"{"type":"getStatus"}"#).dropLast(5))
        #expect(Self.drain(&midBody).isEmpty)
        #expect(midBody.finish() == .truncated(missingBytes: 5))
    }

    @Test("Outgoing messages above 1 MB are refused")
    func outgoingLimit() throws {
        #expect(try NativeMessageFraming.frame([UInt8](repeating: 0x20, count: 1_000_000)).count == 1_000_004)
        #expect(throws: NodeRuntimeError(.invalidMessage, "")) {
            _ = try NativeMessageFraming.frame([UInt8](repeating: 0x20, count: 1_000_001))
        }
    }
}
