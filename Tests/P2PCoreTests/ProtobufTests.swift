import NIOCore
import P2PCore
import Testing

@Suite("Protobuf wire helper")
struct ProtobufTests {
    @Test("Writes the encoding guide's examples")
    func writesGuideExamples() {
        // https://protobuf.dev/programming-guides/encoding/: field 1 = 150, field 2 = "testing".
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, 150)
        writer.writeString(field: 2, "testing")
        #expect(writer.bytes == hex("089601 120774657374696e67"))
    }

    @Test("Reads back every wire type and nested messages")
    func readsEveryWireType() throws {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, UInt64.max)
        writer.writeFixed64(field: 2, 0x0102_0304_0506_0708)
        writer.writeBytes(field: 3, [0xDE, 0xAD])
        writer.writeFixed32(field: 4, 0xCAFE_BABE)
        writer.writeBool(field: 5, true)
        writer.writeMessage(field: 536_870_911) { inner in inner.writeString(field: 1, "inner") }

        var reader = try ProtobufReader(writer.bytes)
        var fields: [ProtobufField] = []
        while let field = try reader.next() {
            fields.append(field)
        }
        #expect(reader.isAtEnd)
        try #require(fields.count == 6)
        #expect(try fields[0].varintValue() == UInt64.max)
        #expect(fields[1].value == .fixed64(0x0102_0304_0506_0708))
        #expect(Array(try fields[2].bytesValue()) == [0xDE, 0xAD])
        #expect(fields[3].value == .fixed32(0xCAFE_BABE))
        #expect(try fields[4].boolValue())
        #expect(fields[5].number == 536_870_911)
        var inner = try ProtobufReader(try fields[5].bytesValue())
        #expect(try inner.next()?.stringValue() == "inner")
    }

    @Test("Reads the same fields from an array, a slice, a ByteBuffer and a collection without contiguous storage")
    func readsAnyCollection() throws {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, 300)
        writer.writeString(field: 2, "libp2p")
        let bytes = writer.bytes
        var buffer = ByteBuffer(bytes: [0xFF])
        buffer.writeBytes(bytes)
        buffer.moveReaderIndex(forwardBy: 1)
        let readers = [
            try ProtobufReader(bytes),
            try ProtobufReader(([0xFF] + bytes).dropFirst()),
            try ProtobufReader(buffer: buffer),
            try ProtobufReader(bytes.lazy.map { $0 }),
        ]
        for var reader in readers {
            #expect(try reader.next()?.varintValue() == 300)
            #expect(try reader.next()?.stringValue() == "libp2p")
            #expect(try reader.next() == nil)
        }
    }

    @Test("Lets callers skip unknown fields of every wire type")
    func skipsUnknownFields() throws {
        // field 9 fixed32, field 10 fixed64, field 11 bytes, field 12 varint, then field 2 = "x".
        let bytes = hex("4d01020304 510102030405060708 5a03aabbcc 60ff01 120178")
        var reader = try ProtobufReader(bytes)
        var found: String?
        while let field = try reader.next() {
            if field.number == 2 { found = try field.stringValue() }
        }
        #expect(found == "x")
    }

    @Test("Accepts non-minimal and 10-byte varints as protobuf does")
    func acceptsProtobufVarints() throws {
        var reader = try ProtobufReader(hex("08 8100 10 ffffffffffffffffff01"))
        #expect(try reader.next()?.varintValue() == 1)
        #expect(try reader.next()?.varintValue() == UInt64.max)
    }

    @Test(
        "Rejects malformed messages with a clear error",
        arguments: [
            "0a05aabb",  // length runs past the end
            "0a",  // missing length
            "08",  // missing varint value
            "0b",  // group start (wire type 3)
            "0c",  // group end (wire type 4)
            "0e00",  // wire type 6
            "0001",  // field number 0
            "09010203",  // truncated fixed64
            "0d0102",  // truncated fixed32
            "08ffffffffffffffffff7f",  // varint overflows 64 bits
            "08ffffffffffffffffffff01",  // 11-byte varint
        ]
    )
    func rejectsMalformed(input: String) throws {
        var reader = try ProtobufReader(hex(input))
        #expect(errorCode { while try reader.next() != nil {} } == .malformedProtobuf)
    }

    @Test("Enforces the message size limit")
    func enforcesSizeLimit() {
        #expect(errorCode { try ProtobufReader([UInt8](repeating: 0, count: 11), maxMessageSize: 10) } == .tooLarge)
        #expect(
            errorCode { try ProtobufReader(buffer: ByteBuffer(repeating: 0, count: 11), maxMessageSize: 10) }
                == .tooLarge
        )
    }

    @Test("Reports a wrong wire type when a field is read as another type")
    func wrongWireType() throws {
        var reader = try ProtobufReader(hex("0801 1201ff"))
        let first = try #require(try reader.next())
        let second = try #require(try reader.next())
        #expect(errorCode { try first.bytesValue() } == .malformedProtobuf)
        #expect(errorCode { try second.varintValue() } == .malformedProtobuf)
        #expect(errorCode { try second.stringValue() } == .malformedProtobuf)
    }
}
