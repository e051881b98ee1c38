import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Key serialization and signatures from https://github.com/libp2p/specs/blob/master/peer-ids/peer-ids.md#keys
//
//     enum KeyType { RSA = 0; Ed25519 = 1; Secp256k1 = 2; ECDSA = 3; }
//     message PublicKey  { required KeyType Type = 1; required bytes Data = 2; }
//     message PrivateKey { required KeyType Type = 1; required bytes Data = 2; }

/// The libp2p key types (the `KeyType` protobuf enum).
///
/// All four are known for decoding; only ``ed25519`` is implemented. Decoding any other type throws
/// ``P2PCoreError/Code/unsupportedKeyType``.
public enum KeyType: UInt64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// RSA (`Data` = DER PKIX public key). Not supported.
    case rsa = 0
    /// Ed25519 (`Data` = raw 32-byte public key). Supported.
    case ed25519 = 1
    /// Secp256k1 (`Data` = 33-byte compressed public key). Not supported.
    case secp256k1 = 2
    /// ECDSA (`Data` = DER public key). Not supported.
    case ecdsa = 3

    /// The name used in the spec: `RSA`, `Ed25519`, `Secp256k1`, `ECDSA`.
    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .ed25519: "Ed25519"
        case .secp256k1: "Secp256k1"
        case .ecdsa: "ECDSA"
        }
    }
}

/// Decodes the `PublicKey`/`PrivateKey` protobuf: both fields required, unknown fields ignored.
private func decodeKeyMessage<Bytes: Collection<UInt8>>(
    _ bytes: Bytes,
    what: String
) throws -> (type: KeyType, data: ArraySlice<UInt8>) {
    // RSA keys are the largest libp2p keys (a few KiB); anything bigger is not a key.
    var reader = try ProtobufReader(bytes, maxMessageSize: 8 * 1024)
    var typeValue: UInt64?
    var data: ArraySlice<UInt8>?
    while let field = try reader.next() {
        switch field.number {
        case 1: typeValue = try field.varintValue()
        case 2: data = try field.bytesValue()
        default: continue
        }
    }
    guard let typeValue, let data else {
        throw P2PCoreError(.invalidKey, "\(what) protobuf is missing its required Type or Data field")
    }
    guard let type = KeyType(rawValue: typeValue) else {
        throw P2PCoreError(.invalidKey, "\(what) has unknown key type \(typeValue)")
    }
    guard type == .ed25519 else {
        throw P2PCoreError(.unsupportedKeyType, "\(type) keys are not supported (only Ed25519)")
    }
    return (type, data)
}

private func encodeKeyMessage(type: KeyType, data: [UInt8]) -> [UInt8] {
    var writer = ProtobufWriter()
    writer.writeVarint(field: 1, type.rawValue)
    writer.writeBytes(field: 2, data)
    return writer.bytes
}

/// A libp2p public key. Only Ed25519 is implemented.
///
/// ``protobufEncoded`` is the deterministic encoding that peer IDs are derived from and that Noise
/// and pubsub carry on the wire; for Ed25519 it is always `08 01 12 20 <32-byte key>`.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    private let ed25519: Curve25519.Signing.PublicKey

    /// The key type (always ``KeyType/ed25519`` today).
    public var keyType: KeyType { .ed25519 }

    /// The raw key bytes: the `Data` field of the protobuf (32 bytes for Ed25519).
    public var rawRepresentation: [UInt8] { Array(self.ed25519.rawRepresentation) }

    /// Creates an Ed25519 public key from its raw 32 bytes.
    ///
    /// - Throws: ``P2PCoreError/Code/invalidKey`` when `bytes` is not a valid Ed25519 public key.
    public init<Bytes: Collection<UInt8>>(ed25519RawRepresentation bytes: Bytes) throws {
        guard bytes.count == 32 else {
            throw P2PCoreError(.invalidKey, "an Ed25519 public key is 32 bytes, not \(bytes.count)")
        }
        do {
            self.ed25519 = try Curve25519.Signing.PublicKey(rawRepresentation: Array(bytes))
        } catch {
            throw P2PCoreError(.invalidKey, "invalid Ed25519 public key", underlying: error)
        }
    }

    init(ed25519 key: Curve25519.Signing.PublicKey) {
        self.ed25519 = key
    }

    /// Decodes the libp2p `PublicKey` protobuf.
    ///
    /// - Throws: ``P2PCoreError/Code/unsupportedKeyType`` for RSA, Secp256k1 and ECDSA keys;
    ///   ``P2PCoreError/Code/invalidKey`` or ``P2PCoreError/Code/malformedProtobuf`` for bad bytes.
    public init<Bytes: Collection<UInt8>>(protobufEncoded bytes: Bytes) throws {
        let (_, data) = try decodeKeyMessage(bytes, what: "PublicKey")
        try self.init(ed25519RawRepresentation: data)
    }

    /// The deterministic libp2p `PublicKey` protobuf.
    public var protobufEncoded: [UInt8] {
        encodeKeyMessage(type: self.keyType, data: self.rawRepresentation)
    }

    /// Checks an Ed25519 (RFC 8032) signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        self.ed25519.isValidSignature(signature, for: message)
    }

    /// `Ed25519(<hex of the raw key>)`.
    public var description: String {
        "\(self.keyType)(\(Base16.encode(self.rawRepresentation)))"
    }

    /// Keys are equal when their raw bytes are equal.
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.ed25519.rawRepresentation == rhs.ed25519.rawRepresentation
    }

    /// Hashes the raw key bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.rawRepresentation)
    }
}

/// A libp2p private key (identity key). Only Ed25519 is implemented.
///
/// Its description never shows key material.
public struct PrivateKey: Sendable, CustomStringConvertible {
    private let ed25519: Curve25519.Signing.PrivateKey

    /// Generates a new random Ed25519 key with the system's secure random number generator.
    public init() {
        self.ed25519 = Curve25519.Signing.PrivateKey()
    }

    /// Creates an Ed25519 key from its 32-byte seed (the RFC 8032 private key).
    ///
    /// - Throws: ``P2PCoreError/Code/invalidKey`` when `seed` is not 32 bytes.
    public init<Bytes: Collection<UInt8>>(ed25519Seed seed: Bytes) throws {
        guard seed.count == 32 else {
            throw P2PCoreError(.invalidKey, "an Ed25519 seed is 32 bytes, not \(seed.count)")
        }
        do {
            self.ed25519 = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(seed))
        } catch {
            throw P2PCoreError(.invalidKey, "invalid Ed25519 seed", underlying: error)
        }
    }

    /// Decodes the libp2p `PrivateKey` protobuf.
    ///
    /// For Ed25519 the `Data` field is `seed(32) ‖ public(32)`; the older 96-byte form
    /// `seed ‖ public ‖ public` is accepted when both copies match. The public half must match the one
    /// derived from the seed.
    ///
    /// - Throws: ``P2PCoreError/Code/unsupportedKeyType`` for other key types,
    ///   ``P2PCoreError/Code/invalidKey`` for bad lengths or a mismatching public half.
    public init<Bytes: Collection<UInt8>>(protobufEncoded bytes: Bytes) throws {
        let data = Array(try decodeKeyMessage(bytes, what: "PrivateKey").data)
        guard data.count == 64 || data.count == 96 else {
            throw P2PCoreError(.invalidKey, "an Ed25519 private key is 64 (or 96) bytes, not \(data.count)")
        }
        if data.count == 96 {
            guard data[32..<64] == data[64..<96] else {
                throw P2PCoreError(.invalidKey, "the two public key copies of a 96-byte Ed25519 key differ")
            }
        }
        try self.init(ed25519Seed: data[0..<32])
        guard self.publicKey.rawRepresentation[...] == data[32..<64] else {
            throw P2PCoreError(.invalidKey, "the public half of the Ed25519 private key does not match its seed")
        }
    }

    /// The key type (always ``KeyType/ed25519`` today).
    public var keyType: KeyType { .ed25519 }

    /// The 32-byte Ed25519 seed. Secret: never log it.
    public var ed25519Seed: [UInt8] { Array(self.ed25519.rawRepresentation) }

    /// The matching public key.
    public var publicKey: PublicKey { PublicKey(ed25519: self.ed25519.publicKey) }

    /// The libp2p `PrivateKey` protobuf (`Data` = seed ‖ public key, 64 bytes). Secret: never log it.
    public var protobufEncoded: [UInt8] {
        encodeKeyMessage(type: self.keyType, data: self.ed25519Seed + self.publicKey.rawRepresentation)
    }

    /// Signs `message` with Ed25519 (RFC 8032).
    ///
    /// - Throws: ``P2PCoreError/Code/invalidKey`` if the crypto library fails.
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        do {
            return Array(try self.ed25519.signature(for: message))
        } catch {
            throw P2PCoreError(.invalidKey, "Ed25519 signing failed", underlying: error)
        }
    }

    /// `PrivateKey(Ed25519, public: <public key>)`; the secret part is never shown.
    public var description: String {
        "PrivateKey(\(self.keyType), public: \(self.publicKey))"
    }
}
