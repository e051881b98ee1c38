import P2PCore
import Testing

@Suite("Multihash")
struct MultihashTests {
    @Test("Encodes identity and sha2-256 multihashes")
    func encodes() {
        #expect(Multihash.identity([0xAB, 0xCD]).bytes == hex("0002abcd"))
        // SHA-256("abc") from FIPS 180-2.
        #expect(
            Multihash.sha2_256(of: Array("abc".utf8)).bytes
                == hex("1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        )
    }

    @Test(
        "Rejects malformed and unsupported multihashes",
        arguments: [
            ("", P2PCoreError.Code.malformedMultihash),
            ("00", .malformedMultihash),  // no length
            ("0003aabb", .malformedMultihash),  // short digest
            ("0001aabb", .malformedMultihash),  // trailing byte
            ("1201aa", .malformedMultihash),  // sha2-256 of the wrong length
            ("1101aa", .unsupportedMultihash),  // sha1
            ("8000", .varintNotMinimal),
        ]
    )
    func rejects(input: String, code: P2PCoreError.Code) {
        #expect(errorCode { try Multihash(bytes: hex(input)) } == code)
    }
}
