import P2PCore
import P2PGossipSub
import Testing

@Suite("Message signing and identity")
struct GossipMessageSigningTests {
    let key = fixedKey(7)

    func signed(_ data: String = "hello", seqno: UInt64 = 0x0102) throws -> GossipMessage {
        try GossipMessage.make(topic: "t", data: Array(data.utf8), policy: .strictSign, key: self.key, seqno: seqno)
    }

    @Test("StrictSign sets from, an 8-byte big-endian seqno and a valid signature, and no key for Ed25519")
    func strictSignFields() throws {
        let message = try self.signed()
        #expect(message.from == PeerID(publicKey: self.key.publicKey).bytes)
        #expect(message.seqno == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(message.key == nil)
        #expect(message.signature?.count == 64)
        try message.validate(policy: .strictSign)
    }

    @Test("The signed bytes are the prefix and the protobuf without signature and key")
    func signedBytes() throws {
        var message = GossipMessage(from: [1], data: [2], seqno: [3], topic: "t", signature: [9], key: [8])
        #expect(message.signedBytes == Array("libp2p-pubsub:".utf8) + hex("0a 01 01 12 01 02 1a 01 03 22 01 74"))
        message.signature = nil
        message.key = nil
        #expect(message.signedBytes == Array("libp2p-pubsub:".utf8) + message.encoded())
        let real = try self.signed()
        #expect(self.key.publicKey.isValidSignature(real.signature!, for: real.signedBytes))
    }

    @Test("A present key that matches the author is accepted (py-libp2p always sends it)")
    func matchingKeyAccepted() throws {
        var message = try self.signed()
        message.key = self.key.publicKey.protobufEncoded
        try message.validate(policy: .strictSign)
    }

    @Test("StrictSign rejects tampering, foreign keys and missing fields", arguments: 0..<7)
    func strictSignRejects(variant: Int) throws {
        var message = try self.signed()
        let expected: GossipSubError.Code
        switch variant {
        case 0:
            message.data = Array("hellp".utf8)
            expected = .invalidSignature
        case 1:
            message.topic = "u"
            expected = .invalidSignature
        case 2:
            message.key = fixedKey(8).publicKey.protobufEncoded
            expected = .invalidSignature
        case 3:
            message.signature = nil
            expected = .policyViolation
        case 4:
            message.seqno = [1, 2, 3]
            expected = .policyViolation
        case 5:
            message.from = nil
            expected = .policyViolation
        default:
            message.from = [0xFF, 0x00]
            expected = .invalidSignature
        }
        #expect(errorCode { try message.validate(policy: .strictSign) } == expected)
    }

    @Test("StrictNoSign publishes only data and topic, and rejects any of from, seqno, signature, key")
    func strictNoSign() throws {
        let message = try GossipMessage.make(topic: "t", data: [1], policy: .strictNoSign, key: self.key, seqno: 5)
        #expect(message == GossipMessage(data: [1], topic: "t"))
        try message.validate(policy: .strictNoSign)
        let variants: [GossipMessage] = [
            GossipMessage(from: [], data: [1], topic: "t"),
            GossipMessage(data: [1], seqno: [0], topic: "t"),
            GossipMessage(data: [1], topic: "t", signature: [1]),
            GossipMessage(data: [1], topic: "t", key: [1]),
        ]
        for variant in variants {
            #expect(errorCode { try variant.validate(policy: .strictNoSign) } == .policyViolation)
        }
        #expect(errorCode { try self.signed().validate(policy: .strictNoSign) } == .policyViolation)
        #expect(errorCode { try message.validate(policy: .strictSign) } == .policyViolation)
    }

    @Test("StrictSign without a key is a configuration error")
    func strictSignNeedsKey() {
        #expect(
            errorCode { _ = try GossipMessage.make(topic: "t", data: [], policy: .strictSign, key: nil, seqno: 1) }
                == .invalidConfiguration
        )
    }

    @Test("Message IDs: from ‖ seqno, or SHA-256 of the data")
    func messageIDs() throws {
        let message = GossipMessage(from: [0xAA, 0xBB], data: Array("abc".utf8), seqno: [0, 1], topic: "t")
        #expect(GossipSubMessageIDFunction.fromAndSeqno.messageID(of: message).bytes == [0xAA, 0xBB, 0, 1])
        // FIPS 180-2 test vector for "abc".
        #expect(
            GossipSubMessageIDFunction.sha256OfData.messageID(of: message).description
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        #expect(GossipSubSignaturePolicy.strictSign.defaultMessageIDFunction == .fromAndSeqno)
        #expect(GossipSubSignaturePolicy.strictNoSign.defaultMessageIDFunction == .sha256OfData)
        let first = try self.signed(seqno: 1)
        let second = try self.signed(seqno: 2)
        #expect(
            GossipSubMessageIDFunction.fromAndSeqno.messageID(of: first)
                != GossipSubMessageIDFunction.fromAndSeqno.messageID(of: second)
        )
    }
}
