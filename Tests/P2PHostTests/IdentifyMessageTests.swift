import NIOCore
import P2PCore
import Testing

@testable import P2PHost

@Suite("IdentifyMessage and identify replies")
struct IdentifyMessageTests {
    private static let key = try! PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32))

    private static var sample: IdentifyMessage {
        IdentifyMessage(
            publicKey: Self.key.publicKey,
            listenAddresses: [try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001")],
            protocols: ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"],
            observedAddress: try! Multiaddr(parsing: "/ip6/::1/tcp/55000"),
            protocolVersion: "ipfs/0.1.0",
            agentVersion: "phantom-trail/0.1.0"
        )
    }

    @Test("A message survives encoding and decoding")
    func roundTrip() throws {
        var decoded = IdentifyMessage()
        try decoded.merge(encoded: Self.sample.encoded)
        #expect(decoded == Self.sample)
    }

    @Test("The encoding uses the spec's field numbers")
    func fieldNumbers() throws {
        var reader = try ProtobufReader(Self.sample.encoded)
        var numbers: [Int] = []
        while let field = try reader.next() {
            numbers.append(field.number)
        }
        #expect(numbers == [1, 2, 3, 3, 4, 5, 6])
    }

    @Test("A reply of several length-prefixed messages is merged: repeated fields append, others replace")
    func multiMessageReply() throws {
        let first = IdentifyMessage(protocols: ["/a/1"], agentVersion: "first")
        var second = IdentifyMessage(protocols: ["/b/1"], agentVersion: "second")
        second.publicKey = Self.key.publicKey
        var buffer = ByteBuffer()
        buffer.writeUVarintLengthPrefixed(first.encoded)
        buffer.writeUVarintLengthPrefixed(second.encoded)
        let merged = try Identify.decodeReply(&buffer)
        #expect(merged.protocols == ["/a/1", "/b/1"])
        #expect(merged.agentVersion == "second")
        #expect(merged.publicKey == Self.key.publicKey)
    }

    @Test("Unknown fields such as the signed peer record are skipped")
    func unknownFieldsSkipped() throws {
        var writer = ProtobufWriter()
        writer.writeString(field: 6, "py-libp2p/0.8.1")
        writer.writeBytes(field: 8, [1, 2, 3])
        writer.writeVarint(field: 99, 5)
        var message = IdentifyMessage()
        try message.merge(encoded: writer.bytes)
        #expect(message.agentVersion == "py-libp2p/0.8.1")
    }

    @Test("A reply that ends inside a message is rejected")
    func truncatedReply() throws {
        var buffer = ByteBuffer()
        buffer.writeUVarintLengthPrefixed(Self.sample.encoded)
        buffer.moveWriterIndex(to: buffer.writerIndex - 3)
        #expect(throws: P2PHostError(.protocolViolation, "")) { try Identify.decodeReply(&buffer) }
    }

    @Test("An empty reply is rejected")
    func emptyReply() throws {
        var buffer = ByteBuffer()
        #expect(throws: P2PHostError(.protocolViolation, "")) { try Identify.decodeReply(&buffer) }
    }

    @Test("A message over the size limit is rejected before decoding")
    func oversizedMessage() throws {
        var message = IdentifyMessage()
        let big = [UInt8](repeating: 0, count: IdentifyMessage.maxMessageSize + 1)
        #expect(throws: P2PHostError(.messageTooLarge, "")) { try message.merge(encoded: big) }
        var buffer = ByteBuffer()
        buffer.writeUVarintLengthPrefixed(big)
        #expect(throws: P2PHostError(.messageTooLarge, "")) { try Identify.decodeReply(&buffer) }
    }

    @Test("More messages than the limit are rejected")
    func tooManyMessages() throws {
        var buffer = ByteBuffer()
        for _ in 0...IdentifyMessage.maxMessageCount {
            buffer.writeUVarintLengthPrefixed(IdentifyMessage(agentVersion: "x").encoded)
        }
        #expect(throws: P2PHostError(.messageTooLarge, "")) { try Identify.decodeReply(&buffer) }
    }

    @Test("Garbage bytes give an error, not a crash")
    func garbage() throws {
        var message = IdentifyMessage()
        #expect(throws: P2PHostError(.protocolViolation, "")) { try message.merge(encoded: [0xFF, 0xFF, 0xFF]) }
        #expect(throws: P2PHostError(.protocolViolation, "")) { try message.merge(encoded: [0x0A, 0x05, 1, 2]) }
    }
}
