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
