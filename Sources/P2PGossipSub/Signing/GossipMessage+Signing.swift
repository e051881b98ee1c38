public import P2PCore

// https://github.com/libp2p/specs/blob/master/pubsub/README.md#message-signing
//
// The signed bytes are "libp2p-pubsub:" followed by the Message protobuf without `signature` and `key`
// (go-libp2p signs before it sets `key` and blanks both before verifying; py-libp2p signs
// {from, data, seqno, topic}). `key` is only needed when the public key cannot be recovered from
// `from`; py-libp2p sets it even for Ed25519, so a present `key` is accepted when it matches `from`.

extension GossipMessage {
    /// The prefix of the signed bytes.
    public static let signaturePrefix = Array("libp2p-pubsub:".utf8)

    /// Creates a message under `policy`: signed by `key` with `seqno` for
    /// ``GossipSubSignaturePolicy/strictSign``, anonymous for ``GossipSubSignaturePolicy/strictNoSign``.
    ///
    /// - Throws: ``GossipSubError/Code/invalidConfiguration`` when StrictSign has no key;
    ///   ``GossipSubError/Code/invalidSignature`` when signing fails.
    public static func make(
        topic: String,
        data: [UInt8],
        policy: GossipSubSignaturePolicy,
        key: PrivateKey?,
        seqno: UInt64
    ) throws -> GossipMessage {
        switch policy {
        case .strictNoSign:
            return GossipMessage(data: data, topic: topic)
        case .strictSign:
            guard let key else {
                throw GossipSubError(.invalidConfiguration, "StrictSign needs a signing key")
            }
            let publicKey = key.publicKey
            let peerID = PeerID(publicKey: publicKey)
            var message = GossipMessage(
                from: peerID.bytes,
                data: data,
                seqno: withUnsafeBytes(of: seqno.bigEndian) { Array($0) },
                topic: topic
            )
            do {
                message.signature = try key.signature(for: message.signedBytes)
            } catch {
                throw GossipSubError(.invalidSignature, "signing the message failed", underlying: error)
            }
            if try peerID.extractPublicKey() == nil {
                message.key = publicKey.protobufEncoded
            }
            return message
        }
    }

    /// The bytes a StrictSign author signs: the prefix and the protobuf without `signature` and `key`.
    public var signedBytes: [UInt8] {
        Self.signaturePrefix + self.encoded(includingSignatureAndKey: false)
    }

    /// Checks the message against `policy`.
    ///
    /// - Throws: ``GossipSubError/Code/policyViolation`` for missing or forbidden fields;
    ///   ``GossipSubError/Code/invalidSignature`` for a bad author, key or signature.
    public func validate(policy: GossipSubSignaturePolicy) throws {
        switch policy {
        case .strictNoSign:
            var present: [String] = []
            if self.from != nil { present.append("from") }
            if self.seqno != nil { present.append("seqno") }
            if self.signature != nil { present.append("signature") }
            if self.key != nil { present.append("key") }
            guard present.isEmpty else {
                throw GossipSubError(
                    .policyViolation,
                    "StrictNoSign message carries \(present.joined(separator: ", "))"
                )
            }
        case .strictSign:
            guard let from = self.from else {
                throw GossipSubError(.policyViolation, "StrictSign message has no from")
            }
            guard self.seqno?.count == 8 else {
                throw GossipSubError(
                    .policyViolation,
                    "StrictSign message needs an 8-byte seqno, not \(self.seqno?.count ?? 0) bytes"
                )
            }
            guard let signature = self.signature else {
                throw GossipSubError(.policyViolation, "StrictSign message has no signature")
            }
            let author: PeerID
            do {
                author = try PeerID(bytes: from)
            } catch {
                throw GossipSubError(.invalidSignature, "from is not a peer ID", underlying: error)
            }
            let publicKey: PublicKey
            do {
                if let key = self.key {
                    publicKey = try PublicKey(protobufEncoded: key)
                    guard author.matches(publicKey) else {
                        throw GossipSubError(.invalidSignature, "key does not belong to the author \(author)")
                    }
                } else if let inlined = try author.extractPublicKey() {
                    publicKey = inlined
                } else {
                    throw GossipSubError(.invalidSignature, "no key given and none can be extracted from \(author)")
                }
            } catch let error as GossipSubError {
                throw error
            } catch {
                throw GossipSubError(.invalidSignature, "the author's public key is unusable", underlying: error)
            }
            guard publicKey.isValidSignature(signature, for: self.signedBytes) else {
                throw GossipSubError(.invalidSignature, "signature does not verify for \(author)")
            }
        }
    }
}
