import P2PCore
import Testing

// Key vectors: libp2p/specs@7740c07 peer-ids/peer-ids.md "Test vectors" (CC-BY-SA 3.0, Protocol Labs),
// via /work/shared/vectors/libp2p-wire-golden-bytes.json. Peer IDs derived from them per the spec
// (identity multihash for keys of at most 42 bytes, sha2-256 otherwise).
enum KeyVectors {
    static let ed25519Private =
        "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"
        + "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let ed25519Public = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let ed25519PeerID = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
    static let ed25519PeerIDCID = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
    static let ed25519Multihash = "0024" + ed25519Public

    static let secp256k1Private = "0802122053dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb"
    static let secp256k1Public = "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99"
    static let secp256k1PeerID = "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY"

    static let ecdsaPublic =
        "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83abab44abf3161f"
        + "162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62"
    static let ecdsaMultihash = "122068362c312e155f4f7290b67f5cd094a22a0a4fbf20efd8c287934419350d36f7"
    static let ecdsaPeerID = "QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk"
}

@Suite("libp2p keys")
struct KeysTests {
    @Test("Decodes the spec's Ed25519 private key and re-encodes both halves byte for byte")
    func ed25519SpecVector() throws {
        let privateKey = try PrivateKey(protobufEncoded: hex(KeyVectors.ed25519Private))
        #expect(privateKey.keyType == .ed25519)
        #expect(privateKey.protobufEncoded == hex(KeyVectors.ed25519Private))
        #expect(privateKey.publicKey.protobufEncoded == hex(KeyVectors.ed25519Public))

        let publicKey = try PublicKey(protobufEncoded: hex(KeyVectors.ed25519Public))
        #expect(publicKey == privateKey.publicKey)
        #expect(publicKey.rawRepresentation == Array(hex(KeyVectors.ed25519Public).dropFirst(4)))
    }

    @Test("Accepts the legacy 96-byte private key only when both public copies match")
    func legacyPrivateKeyForm() throws {
        let data = Array(hex(KeyVectors.ed25519Private).dropFirst(4))
        let good = hex("080112 60") + data + data.suffix(32)
        #expect(try PrivateKey(protobufEncoded: good).publicKey.protobufEncoded == hex(KeyVectors.ed25519Public))

        var otherPublic = Array(data.suffix(32))
        otherPublic[0] ^= 1
        #expect(errorCode { try PrivateKey(protobufEncoded: hex("080112 60") + data + otherPublic) } == .invalidKey)
    }

    @Test("Rejects a private key whose public half does not match its seed")
    func mismatchedPublicHalf() {
        var bytes = hex(KeyVectors.ed25519Private)
        bytes[bytes.count - 1] ^= 0x01
        #expect(errorCode { try PrivateKey(protobufEncoded: bytes) } == .invalidKey)
    }

    @Test("Names unsupported key types clearly")
    func unsupportedKeyTypes() {
        #expect(errorCode { try PublicKey(protobufEncoded: hex(KeyVectors.secp256k1Public)) } == .unsupportedKeyType)
        #expect(errorCode { try PrivateKey(protobufEncoded: hex(KeyVectors.secp256k1Private)) } == .unsupportedKeyType)
        #expect(errorCode { try PublicKey(protobufEncoded: hex(KeyVectors.ecdsaPublic)) } == .unsupportedKeyType)
        #expect(errorCode { try PublicKey(protobufEncoded: hex("0800 1200")) } == .unsupportedKeyType)
        #expect(KeyType(rawValue: 0) == .rsa)
        #expect(KeyType(rawValue: 3) == .ecdsa)
    }

    @Test(
        "Rejects malformed key protobufs",
        arguments: [
            ("0801", P2PCoreError.Code.invalidKey),  // no Data
            ("1220" + String(repeating: "00", count: 32), .invalidKey),  // no Type
            ("0809 1220" + String(repeating: "00", count: 32), .invalidKey),  // unknown key type 9
            ("0801 121f" + String(repeating: "00", count: 31), .invalidKey),  // 31-byte key
            ("0801 1221", .malformedProtobuf),  // truncated Data
        ]
    )
    func rejectsMalformedKeys(input: String, code: P2PCoreError.Code) {
        #expect(errorCode { try PublicKey(protobufEncoded: hex(input)) } == code)
    }

    @Test("Ignores unknown fields in a key protobuf")
    func ignoresUnknownFields() throws {
        let withExtra = hex(KeyVectors.ed25519Public) + hex("1801")
        #expect(try PublicKey(protobufEncoded: withExtra).protobufEncoded == hex(KeyVectors.ed25519Public))
    }

    @Test("Verifies the RFC 8032 test 1 signature and rejects a modified one")
    func rfc8032Vector() throws {
        let publicKey = try PublicKey(
            ed25519RawRepresentation: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        )
        let signature = hex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        let privateKey = try PrivateKey(
            ed25519Seed: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        )
        #expect(privateKey.publicKey == publicKey)
        #expect(publicKey.isValidSignature(signature, for: []))
        var tampered = signature
        tampered[10] ^= 0x40
        #expect(!publicKey.isValidSignature(tampered, for: []))
        #expect(!publicKey.isValidSignature(signature, for: [0x00]))
    }

    @Test("Signs messages that the public key verifies")
    func signAndVerify() throws {
        let privateKey = try PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32))
        let message = Array("noise-libp2p-static-key:".utf8) + [UInt8](repeating: 0xAB, count: 32)
        let signature = try privateKey.signature(for: message)
        #expect(signature.count == 64)
        #expect(privateKey.publicKey.isValidSignature(signature, for: message))
        let other = try PrivateKey(ed25519Seed: [UInt8](repeating: 8, count: 32))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
    }

    @Test("Rejects seeds and raw public keys of the wrong length")
    func wrongLengths() {
        #expect(errorCode { try PrivateKey(ed25519Seed: [UInt8](repeating: 1, count: 31)) } == .invalidKey)
        #expect(errorCode { try PublicKey(ed25519RawRepresentation: [UInt8](repeating: 1, count: 33)) } == .invalidKey)
    }

    @Test("Generated keys differ and never print their secret")
    func generatedKeys() {
        let first = PrivateKey()
        let second = PrivateKey()
        #expect(first.publicKey != second.publicKey)
        let hexSeed = first.ed25519Seed.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(!first.description.contains(hexSeed))
    }
}
