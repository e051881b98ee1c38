import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
        let (_, data) = try KeyProtobuf.decode(bytes, what: "PublicKey")
        try self.init(ed25519RawRepresentation: data)
    }

    /// The deterministic libp2p `PublicKey` protobuf.
    public var protobufEncoded: [UInt8] {
        KeyProtobuf.encode(type: self.keyType, data: self.rawRepresentation)
    }

    /// Checks an Ed25519 (RFC 8032) signature of `message`.
    public func isValidSignature<Signature: Collection<UInt8>, Message: Collection<UInt8>>(
        _ signature: Signature,
        for message: Message
    ) -> Bool {
        self.ed25519.isValidSignature(Array(signature), for: Array(message))
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
