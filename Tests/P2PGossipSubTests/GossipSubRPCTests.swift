import NIOCore
import P2PCore
import P2PGossipSub
import Testing

@Suite("GossipSub RPC codec")
struct GossipSubRPCTests {
    static let controlGolden = hex(
        "1a 27"
            + " 0a 07 0a 01 74 12 02 01 02"  // IHAVE{topic "t", ids [0102]}
            + " 12 03 0a 01 03"  // IWANT{[03]}
            + " 1a 03 0a 01 74"  // GRAFT{"t"}
            + " 22 0d 0a 01 74 12 06 0a 01 05 12 01 06 18 3c"  // PRUNE{"t", [{05, record 06}], backoff 60}
            + " 2a 03 0a 01 07"  // IDONTWANT{[07]}
    )

    static let controlRPC = GossipSubRPC(
        control: GossipSubControl(
            ihave: [.init(topic: "t", messageIDs: [GossipMessageID([1, 2])])],
            iwant: [.init(messageIDs: [GossipMessageID([3])])],
            graft: [.init(topic: "t")],
            prune: [.init(topic: "t", peers: [.init(peerID: [5], signedPeerRecord: [6])], backoff: 60)],
            idontwant: [.init(messageIDs: [GossipMessageID([7])])]
        )
    )

    static let messageGolden = hex(
        "12 18 0a 02 01 02 12 02 68 69 1a 08 00 00 00 00 00 00 00 01 22 01 74 2a 01 aa"
    )

    static let messageRPC = GossipSubRPC(
        messages: [
            GossipMessage(
                from: [1, 2],
                data: Array("hi".utf8),
                seqno: [0, 0, 0, 0, 0, 0, 0, 1],
                topic: "t",
                signature: [0xAA]
            )
        ]
    )

    @Test("A subscription frame matches the bytes worked out from the proto")
    func subscriptionGolden() throws {
        let rpc = GossipSubRPC(subscriptions: [.init(subscribe: true, topic: "foo")])
        var buffer = ByteBuffer()
        #expect(try rpc.writeFrames(into: &buffer) == 1)
        #expect(Array(buffer.readableBytesView) == hex("09 0a 07 08 01 12 03 66 6f 6f"))
        #expect(try GossipSubRPC.readFrame(from: &buffer) == rpc)
        #expect(buffer.readableBytes == 0)
    }

    @Test("A published message encodes field by field in ascending order")
    func messageGoldenBytes() throws {
        #expect(Self.messageRPC.encoded() == Self.messageGolden)
        #expect(try GossipSubRPC(decoding: Self.messageGolden) == Self.messageRPC)
    }

    @Test("Every control message type round-trips through hand-computed bytes")
    func controlGoldenBytes() throws {
        #expect(Self.controlRPC.encoded() == Self.controlGolden)
        #expect(try GossipSubRPC(decoding: Self.controlGolden) == Self.controlRPC)
    }

    @Test("Absent and empty optional message fields stay distinct")
    func presenceIsKept() throws {
        let empty = GossipMessage(from: [], data: [], seqno: [], topic: "x", signature: [], key: [])
        let absent = GossipMessage(topic: "x")
        #expect(absent.encoded() == hex("22 01 78"))
        #expect(try GossipMessage(decoding: empty.encoded()) == empty)
        #expect(try GossipMessage(decoding: absent.encoded()) == absent)
        #expect(empty != absent)
    }

    @Test("Unknown fields are skipped at every level")
    func unknownFieldsSkipped() throws {
        // RPC field 4 (py-libp2p's senderRecord), a varint field 9 inside the message, fixed32 inside control.
        let bytes =
            hex("22 02 ab cd")
            + hex("12 07 48 05 22 01 74 12 00")
            + hex("1a 0a 3d 01 02 03 04 1a 03 0a 01 74")
        let rpc = try GossipSubRPC(decoding: bytes)
        #expect(rpc.messages == [GossipMessage(data: [], topic: "t")])
        #expect(rpc.control?.graft == [.init(topic: "t")])
    }

    @Test(
        "Malformed RPCs are rejected with an error naming the problem",
        arguments: [
            ("12 05 22 01", "truncated message"),
            ("0a 02 08 01", "subscription without topic"),
            ("12 02 0a 00", "message without topic"),
            ("12 03 22 01 ff", "topic that is not UTF-8"),
            ("12 02 20 01", "topic with the wrong wire type"),
            ("1a 02 0b 00", "group wire type in control"),
            ("1a 04 22 02 18 01", "PRUNE without topic"),
            ("1a 03 0a 01 12", "IHAVE with a truncated ID"),
            ("08", "truncated varint"),
            ("00 01", "field number zero"),
        ]
    )
    func malformed(bytes: String, what: String) {
        #expect(errorCode { _ = try GossipSubRPC(decoding: hex(bytes)) } == .malformedRPC, "\(what)")
    }

    @Test("An RPC over the receive limit is refused before decoding")
    func receiveLimit() throws {
        let rpc = GossipSubRPC(messages: [GossipMessage(data: [UInt8](repeating: 1, count: 2000), topic: "t")])
        let bytes = rpc.encoded()
        #expect(errorCode { _ = try GossipSubRPC(decoding: bytes, maxSize: 1000) } == .tooLarge)
        #expect(try GossipSubRPC(decoding: bytes, maxSize: bytes.count) == rpc)
        #expect(GossipSubRPC.defaultMaxReceiveSize == 1 << 20)
    }

    @Test("Frames: partial input waits, an oversized length prefix is refused at once, empty frames are empty RPCs")
    func frames() throws {
        var buffer = ByteBuffer(bytes: hex("09 0a 07 08 01 12 03"))
        #expect(try GossipSubRPC.readFrame(from: &buffer) == nil)
        #expect(buffer.readableBytes == 7)
        var huge = ByteBuffer(bytes: hex("80 80 80 01"))  // 2 MiB announced, no body
        #expect(errorCode { _ = try GossipSubRPC.readFrame(from: &huge) } == .tooLarge)
        var empty = ByteBuffer(bytes: [0])
        #expect(try GossipSubRPC.readFrame(from: &empty)?.isEmpty == true)
        var overlong = ByteBuffer(bytes: hex("80 00"))
        #expect(errorCode { _ = try GossipSubRPC.readFrame(from: &overlong) } == .malformedRPC)
    }

    @Test("Large batches are split into frames of at most 64 KiB that recombine to the original")
    func splitting() throws {
        let messages = (0..<20).map { index in
            GossipMessage(data: [UInt8](repeating: UInt8(index), count: 10_000), topic: "big")
        }
        let ids = (0..<5000).map { GossipMessageID(Array("message-id-\($0)-padding-to-forty-bytes".utf8)) }
        let rpc = GossipSubRPC(
            subscriptions: [.init(subscribe: true, topic: "big")],
            messages: messages,
            control: GossipSubControl(
                ihave: [.init(topic: "big", messageIDs: ids)],
                iwant: [.init(messageIDs: ids)],
                graft: [.init(topic: "big")]
            )
        )
        var buffer = ByteBuffer()
        let count = try rpc.writeFrames(into: &buffer)
        #expect(count > 4)
        var frames: [GossipSubRPC] = []
        while buffer.readableBytes > 0 {
            let before = buffer.readableBytes
            let frame = try #require(try GossipSubRPC.readFrame(from: &buffer))
            #expect(before - buffer.readableBytes <= GossipSubRPC.defaultMaxSendSize)
            frames.append(frame)
        }
        #expect(frames.count == count)
        #expect(frames.flatMap(\.subscriptions) == rpc.subscriptions)
        #expect(frames.flatMap(\.messages) == messages)
        #expect(frames.compactMap(\.control).flatMap(\.ihave).flatMap(\.messageIDs) == ids)
        #expect(frames.compactMap(\.control).flatMap(\.ihave).allSatisfy { $0.topic == "big" })
        #expect(frames.compactMap(\.control).flatMap(\.iwant).flatMap(\.messageIDs) == ids)
        #expect(frames.compactMap(\.control).flatMap(\.graft) == [.init(topic: "big")])
    }

    @Test("Frames are filled exactly up to the limit")
    func exactLimit() throws {
        let message = GossipMessage(data: [UInt8](repeating: 0, count: 100), topic: "t")
        let one = GossipSubRPC(messages: [message])
        var buffer = ByteBuffer()
        try one.writeFrames(into: &buffer)
        let frameSize = buffer.readableBytes
        let two = GossipSubRPC(messages: [message, message])
        // Two bodies of 107 bytes need a two-byte length prefix: 2 + 214 = 216 = 2 × 108.
        #expect(frameSize == 108)
        #expect(try two.split(maxFrameSize: 2 * frameSize).count == 1)
        #expect(try two.split(maxFrameSize: 2 * frameSize - 1).count == 2)
        #expect(errorCode { _ = try one.split(maxFrameSize: frameSize - 1) } == .tooLarge)
        #expect(try one.split(maxFrameSize: frameSize).count == 1)
        #expect(try GossipSubRPC().split().isEmpty)
    }
}
