import NIOCore
import P2PCore
import Testing

@testable import P2PNoise

@Suite("NoiseHandshakePayload protobuf")
struct NoiseHandshakePayloadTests {
    private static let key = [0x08, 0x01, 0x12, 0x20] + [UInt8](repeating: 0xAA, count: 32)
    private static let signature = [UInt8](repeating: 0x5C, count: 64)

    private static func decode(_ bytes: [UInt8]) throws(NoiseError) -> NoiseHandshakePayload {
        try NoiseHandshakePayload(decoding: ByteBuffer(bytes: bytes))
    }

    @Test("Encoding writes identity_key (1), identity_sig (2) and extensions (4) in field order")
    func encodingLayout() throws {
        let payload = NoiseHandshakePayload(
            identityKey: Self.key,
            identitySignature: Self.signature,
            extensions: NoiseExtensions(webTransportCertHashes: [[1, 2]], streamMuxers: ["/yamux/1.0.0"])
        )
        let muxer = Array("/yamux/1.0.0".utf8)
        let extensions: [UInt8] = [0x0A, 0x02, 1, 2, 0x12, UInt8(muxer.count)] + muxer
        let expected: [UInt8] =
            [0x0A, 0x24] + Self.key + [0x12, 0x40] + Self.signature + [0x22, UInt8(extensions.count)] + extensions
        #expect(payload.encoded == expected)
        #expect(try Self.decode(expected) == payload)
    }

    @Test("Without extensions, field 4 is omitted and decodes as absent")
    func noExtensions() throws {
        let payload = NoiseHandshakePayload(identityKey: Self.key, identitySignature: Self.signature)
        #expect(payload.encoded.count == 2 + 36 + 2 + 64)
        #expect(try Self.decode(payload.encoded).extensions == nil)
    }

    @Test("The signed data is the UTF-8 prefix followed by the static key")
    func signedData() {
        let data = NoiseHandshakePayload.signedData(staticPublicKey: [UInt8](repeating: 7, count: 32))
        #expect(data.count == 24 + 32)
        #expect(String(decoding: data.prefix(24), as: UTF8.self) == "noise-libp2p-static-key:")
        #expect(Array(data.suffix(32)) == [UInt8](repeating: 7, count: 32))
    }

    @Test("Unknown fields (the legacy libp2p_data field 3, others) are skipped")
    func unknownFieldsSkipped() throws {
        var writer = ProtobufWriter()
        writer.writeBytes(field: 1, Self.key)
        writer.writeBytes(field: 3, [9, 9, 9])
        writer.writeBytes(field: 2, Self.signature)
        writer.writeVarint(field: 7, 300)
        writer.writeMessage(field: 4) { inner in
            inner.writeVarint(field: 9, 1)
            inner.writeString(field: 2, "/yamux/1.0.0")
        }
        let payload = try Self.decode(writer.bytes)
        #expect(payload.identityKey == Self.key)
        #expect(payload.identitySignature == Self.signature)
        #expect(payload.extensions == NoiseExtensions(streamMuxers: ["/yamux/1.0.0"]))
    }

    @Test("Missing or empty identity fields are rejected with a message naming the field")
    func missingFields() throws {
        var onlyKey = ProtobufWriter()
        onlyKey.writeBytes(field: 1, Self.key)
        let noSignature = try #require(throws: NoiseError.self) { try Self.decode(onlyKey.bytes) }
        #expect(noSignature.code == .invalidPayload)
        #expect(noSignature.message.contains("identity_sig"))

        var emptyKey = ProtobufWriter()
        emptyKey.writeBytes(field: 1, [UInt8]())
        emptyKey.writeBytes(field: 2, Self.signature)
        let noKey = try #require(throws: NoiseError.self) { try Self.decode(emptyKey.bytes) }
        #expect(noKey.message.contains("identity_key"))
    }

    @Test("Truncated or ill-typed protobuf is rejected")
    func malformedProtobuf() throws {
        let valid = NoiseHandshakePayload(identityKey: Self.key, identitySignature: Self.signature).encoded
        for length in [1, 2, 10, valid.count - 1] {
            let error = try #require(throws: NoiseError.self) { try Self.decode(Array(valid.prefix(length))) }
            #expect(error.code == .invalidPayload, "prefix \(length)")
        }
        var wrongType = ProtobufWriter()
        wrongType.writeVarint(field: 1, 5)
        wrongType.writeBytes(field: 2, Self.signature)
        #expect(throws: NoiseError.self) { try Self.decode(wrongType.bytes) }
    }

    @Test("Extensions over the entry count or entry size limits are rejected")
    func extensionLimits() throws {
        func payload(_ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
            var writer = ProtobufWriter()
            writer.writeBytes(field: 1, Self.key)
            writer.writeBytes(field: 2, Self.signature)
            writer.writeMessage(field: 4, body)
            return writer.bytes
        }
        let atLimit = payload { inner in
            for index in 0..<NoiseExtensions.maximumEntryCount {
                inner.writeString(field: 2, "/muxer/\(index)")
            }
        }
        #expect(try Self.decode(atLimit).extensions?.streamMuxers.count == NoiseExtensions.maximumEntryCount)
        let tooMany = payload { inner in
            for index in 0...NoiseExtensions.maximumEntryCount {
                inner.writeString(field: 2, "/muxer/\(index)")
            }
        }
        let countError = try #require(throws: NoiseError.self) { try Self.decode(tooMany) }
        #expect(countError.code == .invalidPayload)
        let tooLong = payload { inner in
            inner.writeBytes(field: 1, [UInt8](repeating: 1, count: NoiseExtensions.maximumEntryLength + 1))
        }
        let lengthError = try #require(throws: NoiseError.self) { try Self.decode(tooLong) }
        #expect(lengthError.code == .invalidPayload)
        let notUTF8 = payload { inner in inner.writeBytes(field: 2, [0xC3, 0x28]) }
        #expect(throws: NoiseError.self) { try Self.decode(notUTF8) }
    }

    @Test("Repeated extensions fields merge, as protobuf requires for embedded messages")
    func extensionsMerge() throws {
        var writer = ProtobufWriter()
        writer.writeBytes(field: 1, Self.key)
        writer.writeBytes(field: 2, Self.signature)
        writer.writeMessage(field: 4) { $0.writeString(field: 2, "/a") }
        writer.writeMessage(field: 4) { $0.writeString(field: 2, "/b") }
        #expect(try Self.decode(writer.bytes).extensions?.streamMuxers == ["/a", "/b"])
    }

    @Test("A configuration refuses a payload that cannot fit in message 2")
    func oversizedConfigurationPayload() throws {
        let huge = NoiseExtensions(
            webTransportCertHashes: Array(repeating: [UInt8](repeating: 1, count: 1024), count: 70)
        )
        let error = try #require(throws: NoiseError.self) {
            try NoiseConfiguration(localIdentity: TestKeys.initiatorIdentity, extensions: huge)
        }
        #expect(error.code == .messageTooLarge)
    }
}
