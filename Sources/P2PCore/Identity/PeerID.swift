// https://github.com/libp2p/specs/blob/master/peer-ids/peer-ids.md#peer-ids
// https://github.com/libp2p/specs/blob/master/RFC/0001-text-peerid-cid.md

/// A libp2p peer ID: the multihash of a peer's serialized public key.
///
/// Keys whose ``PublicKey/protobufEncoded`` form is at most 42 bytes (Ed25519) are inlined with the
/// identity multihash, so the key can be recovered with ``extractPublicKey()``; larger keys are hashed
/// with sha2-256. The text form is base58btc (`12D3KooW…` for Ed25519); ``init(_:)`` also parses the
/// multibase CIDv1 form (`bafzaa…`, codec `libp2p-key` 0x72).
public struct PeerID: Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// Serialized keys up to this size are inlined with the identity multihash.
    public static let maxInlineKeyLength = 42
    /// The multicodec code of `libp2p-key`, used in the CID text form.
    public static let libp2pKeyCodec: UInt64 = 0x72

    /// The multihash of the serialized public key.
    public let multihash: Multihash

    /// The binary peer ID (the multihash bytes), as carried in protobufs and `/p2p/` multiaddrs.
    public var bytes: [UInt8] { self.multihash.bytes }

    /// The peer ID of `publicKey`.
    public init(publicKey: PublicKey) {
        let encoded = publicKey.protobufEncoded
        if encoded.count <= Self.maxInlineKeyLength {
            self.multihash = .identity(encoded)
        } else {
            self.multihash = .sha2_256(of: encoded)
        }
    }

    /// Decodes a binary peer ID (a multihash).
    ///
    /// Accepts identity multihashes of at most 42 bytes and sha2-256 multihashes; the key inside an
    /// identity multihash is not decoded (use ``extractPublicKey()``), so IDs of key types that are not
    /// implemented here (Secp256k1) still parse.
    ///
    /// - Throws: ``P2PCoreError/Code/invalidPeerID`` naming the problem.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws {
        let multihash: Multihash
        do {
            multihash = try Multihash(bytes: bytes)
        } catch let error as P2PCoreError {
            throw P2PCoreError(.invalidPeerID, "peer ID is not a valid multihash: \(error.message)", underlying: error)
        }
        if multihash.code == .identity {
            guard !multihash.digest.isEmpty, multihash.digest.count <= Self.maxInlineKeyLength else {
                throw P2PCoreError(
                    .invalidPeerID,
                    "an identity peer ID must inline 1 to \(Self.maxInlineKeyLength) bytes, not \(multihash.digest.count)"
                )
            }
        }
        self.multihash = multihash
    }

    /// Parses the text form: base58btc (`12D3KooW…`, `Qm…`, `16Uiu2…`) or a multibase CIDv1 with
    /// codec `libp2p-key`.
    ///
    /// - Throws: ``P2PCoreError/Code/invalidPeerID`` naming the problem.
    public init(parsing text: some StringProtocol) throws {
        let text = Substring(text)
        do {
            if text.hasPrefix("1") || text.hasPrefix("Qm") {
                try self.init(bytes: try Base58.decode(text))
            } else {
                try self.init(cidBytes: try Multibase.decode(text))
            }
        } catch let error as P2PCoreError where error.code != .invalidPeerID {
            throw P2PCoreError(
                .invalidPeerID,
                "'\(text.prefix(80))' is not a peer ID: \(error.message)",
                underlying: error
            )
        }
    }

    /// Parses the text form, returning `nil` for invalid text (see ``init(parsing:)`` for the error).
    public init?(_ description: String) {
        guard let id = try? PeerID(parsing: description) else { return nil }
        self = id
    }

    private init(cidBytes: [UInt8]) throws {
        guard let (version, versionLength) = try UVarint.decodePrefix(cidBytes), version == 1 else {
            throw P2PCoreError(.invalidPeerID, "peer ID text is neither base58btc nor a CIDv1")
        }
        let rest = cidBytes.dropFirst(versionLength)
        guard let (codec, codecLength) = try UVarint.decodePrefix(rest) else {
            throw P2PCoreError(.invalidPeerID, "CID is truncated before its codec")
        }
        guard codec == Self.libp2pKeyCodec else {
            throw P2PCoreError(
                .invalidPeerID,
                "CID codec is 0x\(String(codec, radix: 16)), not libp2p-key (0x72)"
            )
        }
        try self.init(bytes: rest.dropFirst(codecLength))
    }

    /// The public key inlined in an identity peer ID, or `nil` for a sha2-256 peer ID.
    ///
    /// - Throws: ``P2PCoreError`` when the inlined key cannot be decoded (for example
    ///   ``P2PCoreError/Code/unsupportedKeyType`` for Secp256k1).
    public func extractPublicKey() throws -> PublicKey? {
        guard self.multihash.code == .identity else { return nil }
        return try PublicKey(protobufEncoded: self.multihash.digest)
    }

    /// Whether this peer ID was derived from `publicKey`.
    public func matches(_ publicKey: PublicKey) -> Bool {
        self == PeerID(publicKey: publicKey)
    }

    /// Orders peer IDs by their binary form (byte-wise), for stable sorting.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The base58btc text form (`12D3KooW…`).
    public var description: String {
        Base58.encode(self.bytes)
    }

    /// The CIDv1 text form: multibase base32 (prefix `b`) of `01 72 <multihash>`.
    public var cidString: String {
        var bytes: [UInt8] = [0x01]
        UVarint.encode(Self.libp2pKeyCodec, into: &bytes)
        bytes.append(contentsOf: self.bytes)
        return "b" + Base32.encode(bytes)
    }
}
