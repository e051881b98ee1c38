import Crypto
import NIOCore
import P2PCore
import Testing

@testable import P2PNoise

@Suite("libp2p Noise handshake machine")
struct NoiseHandshakeStateMachineTests {
    struct Completed {
        var message1: ByteBuffer
        var message2: ByteBuffer
        var message3: ByteBuffer
        var initiatorResult: NoiseHandshakeResult
        var initiatorTransport: NoiseTransportState
        var responderResult: NoiseHandshakeResult
        var responderTransport: NoiseTransportState
    }

    struct UnexpectedAction: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a full handshake between the two machines; any other action than the happy path throws.
    static func handshake(
        _ initiator: inout NoiseHandshakeStateMachine,
        _ responder: inout NoiseHandshakeStateMachine
    ) throws -> Completed {
        guard case .sendMessage(let message1) = initiator.start() else {
            throw UnexpectedAction(description: "initiator did not send message 1")
        }
        #expect(responder.start() == .doNothing)
        guard case .sendMessage(let message2) = responder.messageReceived(message1) else {
            throw UnexpectedAction(description: "responder did not answer message 1")
        }
        let initiatorAction = initiator.messageReceived(message2)
        guard case .sendMessageAndComplete(let message3, let initiatorResult, let initiatorTransport) = initiatorAction
        else {
            throw UnexpectedAction(description: "initiator did not complete: \(initiatorAction)")
        }
        let responderAction = responder.messageReceived(message3)
        guard case .complete(let responderResult, let responderTransport) = responderAction else {
            throw UnexpectedAction(description: "responder did not complete: \(responderAction)")
        }
        return Completed(
            message1: message1,
            message2: message2,
            message3: message3,
            initiatorResult: initiatorResult,
            initiatorTransport: initiatorTransport,
            responderResult: responderResult,
            responderTransport: responderTransport
        )
    }

    /// The error of a `.fail` action, or `nil`.
    static func failure(_ action: NoiseHandshakeStateMachine.MessageReceivedAction) -> NoiseError? {
        if case .fail(let error) = action {
            return error
        }
        return nil
    }

    @Test("Initiator and responder learn each other's peer ID and identity key")
    func peersLearnEachOther() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        #expect(done.initiatorResult.remotePeerID == TestKeys.responderPeerID)
        #expect(done.initiatorResult.remotePublicKey == TestKeys.responderIdentity.publicKey)
        #expect(done.responderResult.remotePeerID == TestKeys.initiatorPeerID)
        #expect(done.responderResult.remotePublicKey == TestKeys.initiatorIdentity.publicKey)
        #expect(done.initiatorResult.remoteExtensions == nil)
        #expect(done.responderResult.remoteExtensions == nil)
    }

    @Test("Message sizes follow the libp2p layout: 32, 32 + 48 + payload + 16, 48 + payload + 16")
    func messageSizes() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        // identity_key (2 + 36) and identity_sig (2 + 64).
        let payloadLength = 2 + 36 + 2 + 64
        #expect(TestKeys.responderConfiguration.encodedPayload.count == payloadLength)
        #expect(done.message1.readableBytes == 32)
        #expect(done.message1.bytes == Array(TestKeys.initiatorEphemeral.publicKey.rawRepresentation))
        #expect(done.message2.readableBytes == 32 + 48 + payloadLength + 16)
        #expect(done.message3.readableBytes == 48 + payloadLength + 16)
    }

    @Test("The same keys give the same handshake bytes")
    func deterministic() throws {
        var initiatorA = TestKeys.initiator()
        var responderA = TestKeys.responder()
        var initiatorB = TestKeys.initiator()
        var responderB = TestKeys.responder()
        let first = try Self.handshake(&initiatorA, &responderA)
        let second = try Self.handshake(&initiatorB, &responderB)
        #expect(first.message2 == second.message2)
        #expect(first.message3 == second.message3)
        #expect(first.initiatorTransport == second.initiatorTransport)
    }

    @Test("Transport states interoperate in both directions, with frames split at 65519 plaintext bytes")
    func transportRoundTrip() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        var initiatorTransport = done.initiatorTransport
        var responderTransport = done.responderTransport

        let message = ByteBuffer(bytes: (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var wire = ByteBuffer()
        try initiatorTransport.encrypt(message, appendingTo: &wire)
        #expect(wire.readableBytes == initiatorTransport.encryptedLength(ofPlaintextLength: 150_000))
        var decoder = NoiseFrameDecoder()
        var received = ByteBuffer()
        var frameLengths: [Int] = []
        while let frame = try decoder.decode(buffer: &wire) {
            frameLengths.append(frame.readableBytes)
            try responderTransport.decrypt(frame: frame, appendingTo: &received)
        }
        #expect(frameLengths == [65535, 65535, 150_000 - 2 * 65519 + 16])
        #expect(received == message)
        #expect(initiatorTransport.sendNonce == 3 && responderTransport.receiveNonce == 3)

        var reply = ByteBuffer()
        try responderTransport.encrypt(ByteBuffer(string: "pong"), appendingTo: &reply)
        let frame = try #require(try decoder.decode(buffer: &reply))
        var plaintext = ByteBuffer()
        try initiatorTransport.decrypt(frame: frame, appendingTo: &plaintext)
        #expect(String(buffer: plaintext) == "pong")
    }

    @Test("A smaller outbound chunk length gives more, smaller frames that still decrypt in order")
    func smallerChunks() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        var sender = done.initiatorTransport
        var receiver = done.responderTransport
        sender.outboundChunkLength = 1000
        let message = ByteBuffer(bytes: (0..<2500).map { UInt8(truncatingIfNeeded: $0) })
        var wire = ByteBuffer()
        try sender.encrypt(message, appendingTo: &wire)
        #expect(wire.readableBytes == sender.encryptedLength(ofPlaintextLength: 2500))
        var decoder = NoiseFrameDecoder()
        var lengths: [Int] = []
        var received = ByteBuffer()
        while let frame = try decoder.decode(buffer: &wire) {
            lengths.append(frame.readableBytes)
            try receiver.decrypt(frame: frame, appendingTo: &received)
        }
        #expect(lengths == [1016, 1016, 516])
        #expect(received == message)
    }

    @Test("A flipped byte anywhere in a transport frame fails authentication")
    func tamperedTransportFrame() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        var sender = done.initiatorTransport
        var framed = ByteBuffer()
        try sender.encrypt(ByteBuffer(string: "attack at dawn"), appendingTo: &framed)
        let frame = framed.getSlice(at: 2, length: framed.readableBytes - 2)!
        for index in 0..<frame.readableBytes {
            var receiver = done.responderTransport
            var tampered = frame
            tampered.setInteger(tampered.getInteger(at: index, as: UInt8.self)! ^ 0x04, at: index)
            var output = ByteBuffer()
            let error = try #require(throws: NoiseError.self) {
                try receiver.decrypt(frame: tampered, appendingTo: &output)
            }
            #expect(error.code == .decryptionFailed)
            #expect(output.readableBytes == 0)
        }
        var receiver = done.responderTransport
        var output = ByteBuffer()
        let short = try #require(throws: NoiseError.self) {
            try receiver.decrypt(frame: frame.getSlice(at: 0, length: 15)!, appendingTo: &output)
        }
        #expect(short.code == .decryptionFailed)
    }

    @Test("The initiator accepts the responder when the expected peer ID matches")
    func expectedPeerMatches() throws {
        var initiator = TestKeys.initiator(expecting: TestKeys.responderPeerID)
        var responder = TestKeys.responder()
        let done = try Self.handshake(&initiator, &responder)
        #expect(done.initiatorResult.remotePeerID == TestKeys.responderPeerID)
    }

    @Test("The initiator fails when the responder proves a different peer ID than expected")
    func wrongExpectedPeer() throws {
        var initiator = TestKeys.initiator(expecting: TestKeys.strangerPeerID)
        var responder = TestKeys.responder()
        guard case .sendMessage(let message1) = initiator.start(),
            case .sendMessage(let message2) = responder.messageReceived(message1)
        else {
            Issue.record("handshake did not start")
            return
        }
        let error = try #require(Self.failure(initiator.messageReceived(message2)))
        #expect(error.code == .peerIDMismatch)
        #expect(error.message.contains(TestKeys.strangerPeerID.description))
        #expect(error.message.contains(TestKeys.responderPeerID.description))
        // A failed machine ignores whatever comes next.
        #expect(initiator.messageReceived(message2) == .doNothing)
    }

    @Test("The responder can also require an initiator identity")
    func responderExpectation() throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder(expecting: TestKeys.strangerPeerID)
        guard case .sendMessage(let message1) = initiator.start(),
            case .sendMessage(let message2) = responder.messageReceived(message1),
            case .sendMessageAndComplete(let message3, _, _) = initiator.messageReceived(message2)
        else {
            Issue.record("handshake did not reach message 3")
            return
        }
        let error = try #require(Self.failure(responder.messageReceived(message3)))
        #expect(error.code == .peerIDMismatch)
    }

    /// Runs the handshake with a responder presenting `payload`, returning the initiator's error.
    static func initiatorError(againstResponderPayload payload: [UInt8]) throws -> NoiseError {
        let forged = NoiseConfiguration(
            localIdentity: TestKeys.responderIdentity,
            staticKey: TestKeys.responderStatic,
            encodedPayload: payload
        )
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder(configuration: forged)
        guard case .sendMessage(let message1) = initiator.start(),
            case .sendMessage(let message2) = responder.messageReceived(message1)
        else {
            throw UnexpectedAction(description: "handshake did not start")
        }
        return try #require(Self.failure(initiator.messageReceived(message2)))
    }

    static func payload(
        key: PrivateKey,
        signing staticKey: Curve25519.KeyAgreement.PublicKey,
        signer: PrivateKey
    ) throws
        -> NoiseHandshakePayload
    {
        let signature = try signer.signature(
            for: NoiseHandshakePayload.signedData(staticPublicKey: staticKey.rawRepresentation)
        )
        return NoiseHandshakePayload(identityKey: key.publicKey.protobufEncoded, identitySignature: signature)
    }

    @Test("A signature by another identity key than the one presented is rejected")
    func signatureByAnotherKey() throws {
        let payload = try Self.payload(
            key: TestKeys.responderIdentity,
            signing: TestKeys.responderStatic.publicKey,
            signer: TestKeys.strangerIdentity
        )
        let error = try Self.initiatorError(againstResponderPayload: payload.encoded)
        #expect(error.code == .invalidSignature)
    }

    @Test("A valid signature over a different Noise static key is rejected")
    func signatureOverAnotherStaticKey() throws {
        let payload = try Self.payload(
            key: TestKeys.responderIdentity,
            signing: TestKeys.initiatorStatic.publicKey,
            signer: TestKeys.responderIdentity
        )
        let error = try Self.initiatorError(againstResponderPayload: payload.encoded)
        #expect(error.code == .invalidSignature)
    }

    @Test("A signature with any single bit flipped is rejected")
    func tamperedSignature() throws {
        let valid = try Self.payload(
            key: TestKeys.responderIdentity,
            signing: TestKeys.responderStatic.publicKey,
            signer: TestKeys.responderIdentity
        )
        for index in [0, 17, 31, 32, 50, 63] {
            var payload = valid
            payload.identitySignature[index] ^= 0x20
            let error = try Self.initiatorError(againstResponderPayload: payload.encoded)
            #expect(error.code == .invalidSignature, "signature byte \(index)")
        }
        var truncated = valid
        truncated.identitySignature.removeLast()
        #expect(try Self.initiatorError(againstResponderPayload: truncated.encoded).code == .invalidSignature)
    }

    @Test("Payloads that are not protobuf, lack fields or carry an unsupported key are rejected")
    func malformedPayloads() throws {
        #expect(try Self.initiatorError(againstResponderPayload: [0xFF, 0xFF, 0xFF]).code == .invalidPayload)
        #expect(try Self.initiatorError(againstResponderPayload: []).code == .invalidPayload)
        let valid = try Self.payload(
            key: TestKeys.responderIdentity,
            signing: TestKeys.responderStatic.publicKey,
            signer: TestKeys.responderIdentity
        )
        var writer = ProtobufWriter()
        writer.writeBytes(field: 2, valid.identitySignature)
        #expect(try Self.initiatorError(againstResponderPayload: writer.bytes).code == .invalidPayload)

        var rsa = ProtobufWriter()
        rsa.writeVarint(field: 1, KeyType.rsa.rawValue)
        rsa.writeBytes(field: 2, [UInt8](repeating: 1, count: 40))
        let rsaPayload = NoiseHandshakePayload(identityKey: rsa.bytes, identitySignature: valid.identitySignature)
        #expect(try Self.initiatorError(againstResponderPayload: rsaPayload.encoded).code == .invalidIdentityKey)
    }

    @Test("The responder rejects a first message that is not exactly a 32-byte ephemeral key")
    func garbageFirstMessage() throws {
        for length in [0, 1, 31, 33, 64, 200] {
            var responder = TestKeys.responder()
            let garbage = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
            let error = try #require(Self.failure(responder.messageReceived(garbage)), "length \(length)")
            #expect(error.code == .malformedHandshakeMessage, "length \(length)")
            #expect(responder.messageReceived(garbage) == .doNothing)
        }
    }

    @Test("The responder rejects a low-order ephemeral key (all-zero shared secret)")
    func lowOrderEphemeral() throws {
        var responder = TestKeys.responder()
        let error = try #require(Self.failure(responder.messageReceived(ByteBuffer(repeating: 0, count: 32))))
        #expect(error.code == .invalidRemoteKey)
    }

    @Test("The initiator rejects garbage instead of message 2, of any length")
    func garbageSecondMessage() throws {
        for length in [0, 32, 95, 96, 200, 1000] {
            var initiator = TestKeys.initiator()
            _ = initiator.start()
            let garbage = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) })
            let error = try #require(Self.failure(initiator.messageReceived(garbage)), "length \(length)")
            #expect(
                [.malformedHandshakeMessage, .decryptionFailed, .invalidRemoteKey].contains(error.code),
                "length \(length): \(error)"
            )
        }
    }

    @Test("A flipped byte anywhere in message 2 or message 3 fails the handshake")
    func tamperedHandshakeMessages() throws {
        var reference = (TestKeys.initiator(), TestKeys.responder())
        let done = try Self.handshake(&reference.0, &reference.1)
        for index in 0..<done.message2.readableBytes {
            var initiator = TestKeys.initiator()
            _ = initiator.start()
            var tampered = done.message2
            tampered.setInteger(tampered.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
            let error = try #require(Self.failure(initiator.messageReceived(tampered)), "message 2 byte \(index)")
            #expect([.decryptionFailed, .invalidRemoteKey].contains(error.code))
        }
        for index in 0..<done.message3.readableBytes {
            var responder = TestKeys.responder()
            _ = responder.messageReceived(done.message1)
            var tampered = done.message3
            tampered.setInteger(tampered.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
            let error = try #require(Self.failure(responder.messageReceived(tampered)), "message 3 byte \(index)")
            #expect(error.code == .decryptionFailed)
        }
    }

    @Test("An initiator that receives bytes before it sent message 1 fails")
    func initiatorSpokenToFirst() throws {
        var initiator = TestKeys.initiator()
        let error = try #require(Self.failure(initiator.messageReceived(ByteBuffer(repeating: 1, count: 32))))
        #expect(error.code == .malformedHandshakeMessage)
    }

    @Test("Extensions announced by each side reach the other")
    func extensionsDelivered() throws {
        let responderExtensions = NoiseExtensions(streamMuxers: ["/yamux/1.0.0"])
        let initiatorExtensions = NoiseExtensions(
            webTransportCertHashes: [[0x12, 0x20] + [UInt8](repeating: 9, count: 32)],
            streamMuxers: ["/yamux/1.0.0", "/mplex/6.7.0"]
        )
        var initiator = TestKeys.initiator(
            configuration: TestKeys.configuration(
                TestKeys.initiatorIdentity,
                staticKey: TestKeys.initiatorStatic,
                extensions: initiatorExtensions
            )
        )
        var responder = TestKeys.responder(
            configuration: TestKeys.configuration(
                TestKeys.responderIdentity,
                staticKey: TestKeys.responderStatic,
                extensions: responderExtensions
            )
        )
        let done = try Self.handshake(&initiator, &responder)
        #expect(done.initiatorResult.remoteExtensions == responderExtensions)
        #expect(done.responderResult.remoteExtensions == initiatorExtensions)
    }
}
