// Key serialization and signatures from https://github.com/libp2p/specs/blob/master/peer-ids/peer-ids.md#keys
//
//     enum KeyType { RSA = 0; Ed25519 = 1; Secp256k1 = 2; ECDSA = 3; }
//     message PublicKey  { required KeyType Type = 1; required bytes Data = 2; }
//     message PrivateKey { required KeyType Type = 1; required bytes Data = 2; }

/// The libp2p `PublicKey`/`PrivateKey` protobuf (both messages have the same two fields).
enum KeyProtobuf {
    /// Decodes the `PublicKey`/`PrivateKey` protobuf: both fields required, unknown fields ignored.
    static func decode<Bytes: Collection<UInt8>>(
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

    static func encode(type: KeyType, data: [UInt8]) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, type.rawValue)
        writer.writeBytes(field: 2, data)
        return writer.bytes
    }
}
