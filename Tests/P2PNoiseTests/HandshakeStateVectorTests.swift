import Crypto
import Foundation
import NIOCore
import Testing

@testable import P2PNoise

/// One Noise vector, normalised from the three schemas in `Vectors/noise-xx-25519-chachapoly-sha256.json`.
struct NoiseVector: Sendable, CustomTestStringConvertible {
    struct Message: Sendable {
        var payload: [UInt8]
        var ciphertext: [UInt8]
        /// Whether the initiator sends this message.
        var fromInitiator: Bool
    }

    var source: String
    var initiatorPrologue: [UInt8]
    var responderPrologue: [UInt8]
    var initiatorStatic: [UInt8]
    var initiatorEphemeral: [UInt8]
    var responderStatic: [UInt8]
    var responderEphemeral: [UInt8]
    var handshakeHash: [UInt8]?
    var messages: [Message]

    var testDescription: String { self.source }
}

enum NoiseVectorLoader {
    struct VectorError: Error, CustomStringConvertible {
        var description: String
    }

    private struct File: Decodable {
        var protocolName: String
        var vectors: [CacophonyVector]
        var noiseCVectors: [CacophonyVector]
        var flynnVectors: [[String: String]]
    }

    private struct CacophonyVector: Decodable {
        struct Message: Decodable {
            var payload: String
            var ciphertext: String
        }
        var protocolName: String?
        var name: String?
        var initPrologue: String
        var initStatic: String
        var initEphemeral: String
        var respPrologue: String
        var respStatic: String
        var respEphemeral: String
        var handshakeHash: String?
        var messages: [Message]
    }

    static func load() throws -> [NoiseVector] {
        guard
            let url = Bundle.module.url(
                forResource: "noise-xx-25519-chachapoly-sha256",
                withExtension: "json",
                subdirectory: "Vectors"
            )
        else {
            throw VectorError(
                description: "Vectors/noise-xx-25519-chachapoly-sha256.json is missing from the test bundle"
            )
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file = try decoder.decode(File.self, from: Data(contentsOf: url))
        guard file.protocolName == HandshakeState.protocolName else {
            throw VectorError(description: "unexpected protocol \(file.protocolName)")
        }
        var result: [NoiseVector] = []
        for (index, vector) in file.vectors.enumerated() {
            result.append(try self.normalise(vector, source: "cacophony-schema vectors[\(index)]"))
        }
        for (index, vector) in file.noiseCVectors.enumerated() {
            result.append(try self.normalise(vector, source: "noise-c vectors[\(index)]"))
        }
        for (index, record) in file.flynnVectors.enumerated() {
            result.append(try self.normaliseFlynn(record, source: "flynn vectors[\(index)]"))
        }
        return result
    }

    private static func bytes(_ hex: String) throws -> [UInt8] {
        guard let bytes = [UInt8](hex: hex) else {
            throw VectorError(description: "bad hex: \(hex)")
        }
        return bytes
    }

    private static func normalise(_ vector: CacophonyVector, source: String) throws -> NoiseVector {
        let name = vector.protocolName ?? vector.name
        guard name == HandshakeState.protocolName else {
            throw VectorError(description: "\(source): unexpected protocol \(name ?? "nil")")
        }
        return NoiseVector(
            source: source,
            initiatorPrologue: try self.bytes(vector.initPrologue),
            responderPrologue: try self.bytes(vector.respPrologue),
            initiatorStatic: try self.bytes(vector.initStatic),
            initiatorEphemeral: try self.bytes(vector.initEphemeral),
            responderStatic: try self.bytes(vector.respStatic),
            responderEphemeral: try self.bytes(vector.respEphemeral),
            handshakeHash: try vector.handshakeHash.map(self.bytes),
            messages: try vector.messages.enumerated().map { index, message in
                // Overall message index i even: the initiator sends.
                NoiseVector.Message(
                    payload: try self.bytes(message.payload),
                    ciphertext: try self.bytes(message.ciphertext),
                    fromInitiator: index % 2 == 0
                )
            }
        )
    }

    private static func normaliseFlynn(_ record: [String: String], source: String) throws -> NoiseVector {
        func field(_ key: String) throws -> [UInt8] {
            guard let value = record[key] else {
                throw VectorError(description: "\(source): missing \(key)")
            }
            return try self.bytes(value)
        }
        guard record["handshake"] == HandshakeState.protocolName else {
            throw VectorError(description: "\(source): unexpected protocol \(record["handshake"] ?? "nil")")
        }
        var messages: [NoiseVector.Message] = []
        var index = 0
        while record["msg_\(index)_ciphertext"] != nil {
            // Handshake messages alternate from the initiator; transport message j = index - 3
            // uses the first split key (initiator to responder) when j is even.
            let fromInitiator = index < HandshakeState.messageCount ? index % 2 == 0 : (index - 3) % 2 == 0
            messages.append(
                NoiseVector.Message(
                    payload: try field("msg_\(index)_payload"),
                    ciphertext: try field("msg_\(index)_ciphertext"),
                    fromInitiator: fromInitiator
                )
            )
            index += 1
        }
        let prologue = try record["prologue"].map(self.bytes) ?? []
        return NoiseVector(
            source: source,
            initiatorPrologue: prologue,
            responderPrologue: prologue,
            initiatorStatic: try field("init_static"),
            initiatorEphemeral: try field("gen_init_ephemeral"),
            responderStatic: try field("resp_static"),
            responderEphemeral: try field("gen_resp_ephemeral"),
            handshakeHash: nil,
            messages: messages
        )
    }
}

private func x25519(_ bytes: [UInt8]) throws -> Curve25519.KeyAgreement.PrivateKey {
    try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
}

@Suite("Noise XX handshake state against the published test vectors")
struct HandshakeStateVectorTests {
    @Test("The vector file holds all seven XX 25519 ChaChaPoly SHA256 vectors")
    func vectorCount() throws {
        let vectors = try NoiseVectorLoader.load()
        #expect(vectors.count == 7)
        #expect(vectors.filter { $0.handshakeHash != nil }.count == 2)
        #expect(vectors.allSatisfy { $0.messages.count > HandshakeState.messageCount })
    }

    @Test(
        "Every handshake message, transport message and handshake hash matches the vector",
        arguments: try NoiseVectorLoader.load()
    )
    func vector(_ vector: NoiseVector) throws {
        var initiator = HandshakeState(
            role: .initiator,
            prologue: vector.initiatorPrologue,
            localStatic: try x25519(vector.initiatorStatic),
            localEphemeral: try x25519(vector.initiatorEphemeral)
        )
        var responder = HandshakeState(
            role: .responder,
            prologue: vector.responderPrologue,
            localStatic: try x25519(vector.responderStatic),
            localEphemeral: try x25519(vector.responderEphemeral)
        )

        for (index, message) in vector.messages.prefix(HandshakeState.messageCount).enumerated() {
            let payload = ByteBuffer(bytes: message.payload)
            if message.fromInitiator {
                let wire = try initiator.writeMessage(payload: payload)
                #expect(wire.bytes == message.ciphertext, "handshake message \(index) from the initiator")
                let received = try responder.readMessage(wire)
                #expect(received.bytes == message.payload, "payload of handshake message \(index)")
            } else {
                let wire = try responder.writeMessage(payload: payload)
                #expect(wire.bytes == message.ciphertext, "handshake message \(index) from the responder")
                let received = try initiator.readMessage(wire)
                #expect(received.bytes == message.payload, "payload of handshake message \(index)")
            }
        }
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.handshakeHash == responder.handshakeHash)
        if let expected = vector.handshakeHash {
            #expect(initiator.handshakeHash == expected)
        }
        #expect(
            initiator.remoteStatic?.rawRepresentation
                == (try x25519(vector.responderStatic)).publicKey.rawRepresentation
        )
        #expect(
            responder.remoteStatic?.rawRepresentation
                == (try x25519(vector.initiatorStatic)).publicKey.rawRepresentation
        )

        var (initiatorSend, initiatorReceive) = initiator.split()
        var (responderSend, responderReceive) = responder.split()
        for (index, message) in vector.messages.enumerated().dropFirst(HandshakeState.messageCount) {
            var wire = ByteBuffer()
            var plaintext = ByteBuffer()
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            try message.payload.withUnsafeBytes { bytes in
                if message.fromInitiator {
                    try initiatorSend.encrypt(authenticating: empty, plaintext: bytes, appendingTo: &wire)
                } else {
                    try responderSend.encrypt(authenticating: empty, plaintext: bytes, appendingTo: &wire)
                }
            }
            #expect(wire.bytes == message.ciphertext, "transport message \(index)")
            try message.ciphertext.withUnsafeBytes { bytes in
                if message.fromInitiator {
                    try responderReceive.decrypt(authenticating: empty, ciphertext: bytes, appendingTo: &plaintext)
                } else {
                    try initiatorReceive.decrypt(authenticating: empty, ciphertext: bytes, appendingTo: &plaintext)
                }
            }
            #expect(plaintext.bytes == message.payload, "plaintext of transport message \(index)")
        }
    }

    @Test("A flipped bit in any handshake message is rejected by the reader")
    func tamperedHandshakeMessages() throws {
        let vector = try #require(try NoiseVectorLoader.load().first)
        // Message 1 carries a plaintext ephemeral key and payload, so only messages 2 and 3 are authenticated.
        for messageIndex in 1..<HandshakeState.messageCount {
            let length = vector.messages[messageIndex].ciphertext.count
            for byteIndex in 0..<length {
                var initiator = HandshakeState(
                    role: .initiator,
                    prologue: vector.initiatorPrologue,
                    localStatic: try x25519(vector.initiatorStatic),
                    localEphemeral: try x25519(vector.initiatorEphemeral)
                )
                var responder = HandshakeState(
                    role: .responder,
                    prologue: vector.responderPrologue,
                    localStatic: try x25519(vector.responderStatic),
                    localEphemeral: try x25519(vector.responderEphemeral)
                )
                var outcome: NoiseError?
                for index in 0...messageIndex {
                    let payload = ByteBuffer(bytes: vector.messages[index].payload)
                    var wire =
                        index % 2 == 0
                        ? try initiator.writeMessage(payload: payload) : try responder.writeMessage(payload: payload)
                    if index == messageIndex {
                        let original = try #require(wire.getInteger(at: byteIndex, as: UInt8.self))
                        wire.setInteger(original ^ 0x01, at: byteIndex)
                    }
                    do {
                        if index % 2 == 0 {
                            _ = try responder.readMessage(wire)
                        } else {
                            _ = try initiator.readMessage(wire)
                        }
                    } catch {
                        outcome = error
                    }
                }
                let error = try #require(
                    outcome,
                    "message \(messageIndex + 1) byte \(byteIndex) was accepted after tampering"
                )
                #expect([NoiseError.Code.decryptionFailed, .invalidRemoteKey].contains(error.code))
            }
        }
    }
}
