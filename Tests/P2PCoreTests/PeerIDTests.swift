import P2PCore
import Testing

@Suite("Peer IDs")
struct PeerIDTests {
    @Test("Derives the spec's Ed25519 peer ID, inlined with the identity multihash")
    func ed25519PeerID() throws {
        let key = try PublicKey(protobufEncoded: hex(KeyVectors.ed25519Public))
        let id = PeerID(publicKey: key)
        #expect(id.bytes == hex(KeyVectors.ed25519Multihash))
        #expect(id.description == KeyVectors.ed25519PeerID)
        #expect(id.cidString == KeyVectors.ed25519PeerIDCID)
        #expect(try id.extractPublicKey() == key)
        #expect(id.matches(key))
    }

    @Test(
        "Derives interop peer IDs from Ed25519 seeds 00…01 and 00…02",
        arguments: [
            (UInt8(1), "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"),
            (UInt8(2), "12D3KooWHdiAxVd8uMQR1hGWXccidmfCwLqcMpGwR6QcTP6QRMuD"),
        ]
    )
    func seedPeerIDs(last: UInt8, expected: String) throws {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: 0, count: 31) + [last])
        #expect(PeerID(publicKey: key.publicKey).description == expected)
    }

    @Test("Parses base58btc and CIDv1 text to the same peer ID")
    func parsesBothTextForms() throws {
        let fromBase58 = try PeerID(parsing: KeyVectors.ed25519PeerID)
        let fromCID = try PeerID(parsing: KeyVectors.ed25519PeerIDCID)
        #expect(fromBase58 == fromCID)
        #expect(fromBase58.bytes == hex(KeyVectors.ed25519Multihash))
        #expect(PeerID(KeyVectors.ed25519PeerID) == fromBase58)
        #expect(PeerID("not a peer id") == nil)
        // Upper-case base32 (multibase prefix "B") is the same ID.
        #expect(try PeerID(parsing: KeyVectors.ed25519PeerIDCID.uppercased()) == fromBase58)
    }

    @Test("Parses secp256k1 and ECDSA peer IDs without decoding their keys")
    func otherKeyTypePeerIDs() throws {
        let secp = try PeerID(parsing: KeyVectors.secp256k1PeerID)
        #expect(secp.bytes == hex("0025") + hex(KeyVectors.secp256k1Public))
        #expect(secp.description == KeyVectors.secp256k1PeerID)
        #expect(errorCode { try secp.extractPublicKey() } == .unsupportedKeyType)

        let ecdsa = try PeerID(parsing: KeyVectors.ecdsaPeerID)
        #expect(ecdsa.bytes == hex(KeyVectors.ecdsaMultihash))
        #expect(ecdsa.multihash.code == .sha2_256)
        #expect(try ecdsa.extractPublicKey() == nil)
        // The sha2-256 path of the multihash, checked against the derived vector.
        #expect(Multihash.sha2_256(of: hex(KeyVectors.ecdsaPublic)).bytes == hex(KeyVectors.ecdsaMultihash))
    }

    @Test("Round-trips binary peer IDs")
    func binaryRoundTrip() throws {
        let id = PeerID(publicKey: PrivateKey().publicKey)
        #expect(try PeerID(bytes: id.bytes) == id)
        #expect(try PeerID(parsing: id.description) == id)
        #expect(try PeerID(parsing: id.cidString) == id)
        #expect(id.description.hasPrefix("12D3KooW"))
    }

    @Test("Orders peer IDs by their bytes")
    func ordering() throws {
        let ed25519 = try PeerID(parsing: KeyVectors.ed25519PeerID)  // starts 00 24
        let secp = try PeerID(parsing: KeyVectors.secp256k1PeerID)  // starts 00 25
        let ecdsa = try PeerID(parsing: KeyVectors.ecdsaPeerID)  // starts 12 20
        #expect([ecdsa, secp, ed25519].sorted() == [ed25519, secp, ecdsa])
    }

    @Test(
        "Rejects invalid peer ID text",
        arguments: [
            "",
            "12D3KooW0OIl",  // characters outside base58btc
            "QmShort",  // sha2-256 digest of the wrong length
            "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt",  // truncated CID
            "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",  // CIDv1 raw codec 0x55
            "xabc",  // unknown multibase
            "bAFZAAJAIAEJCAHWR5D5OFRFBIS4L5D6UWR57HU5TJODRYPFM6YAQ6DSC2R2PZYT6",  // mixed case base32
        ]
    )
    func rejectsInvalidText(text: String) {
        #expect(errorCode { try PeerID(parsing: text) } == .invalidPeerID)
    }

    @Test("Rejects invalid binary peer IDs")
    func rejectsInvalidBytes() {
        #expect(errorCode { try PeerID(bytes: [UInt8]()) } == .invalidPeerID)
        #expect(errorCode { try PeerID(bytes: hex("0000")) } == .invalidPeerID)  // empty identity
        #expect(errorCode { try PeerID(bytes: hex("002b") + [UInt8](repeating: 1, count: 43)) } == .invalidPeerID)
        #expect(errorCode { try PeerID(bytes: hex("1310") + [UInt8](repeating: 1, count: 16)) } == .invalidPeerID)
        #expect(errorCode { try PeerID(bytes: hex("0024") + hex(KeyVectors.ed25519Public) + [0]) } == .invalidPeerID)
    }
}
