import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
        let data = Array(try KeyProtobuf.decode(bytes, what: "PrivateKey").data)
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
        KeyProtobuf.encode(type: self.keyType, data: self.ed25519Seed + self.publicKey.rawRepresentation)
    }

    /// Signs `message` with Ed25519 (RFC 8032).
    ///
    /// - Throws: ``P2PCoreError/Code/invalidKey`` if the crypto library fails.
    public func signature<Message: Collection<UInt8>>(for message: Message) throws -> [UInt8] {
        do {
            return Array(try self.ed25519.signature(for: Array(message)))
        } catch {
            throw P2PCoreError(.invalidKey, "Ed25519 signing failed", underlying: error)
        }
    }

    /// `PrivateKey(Ed25519, public: <public key>)`; the secret part is never shown.
    public var description: String {
        "PrivateKey(\(self.keyType), public: \(self.publicKey))"
    }
}
