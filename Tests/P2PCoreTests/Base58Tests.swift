import TestSupport
import Testing

@testable import P2PCore

@Suite("base58btc")
struct Base58Tests {
    /// Digit-by-digit base-58 conversion, the textbook algorithm the limb-based encoder must agree with.
    private static func referenceEncode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits: [Int] = []
        for byte in bytes.dropFirst(zeros) {
            var carry = Int(byte)
            for index in digits.indices {
                carry += digits[index] << 8
                digits[index] = carry % 58
                carry /= 58
            }
            while carry > 0 {
                digits.append(carry % 58)
                carry /= 58
            }
        }
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        return String(repeating: "1", count: zeros) + String(digits.reversed().map { alphabet[$0] })
    }

    @Test(
        "Encodes the draft's examples",
        arguments: [
            ("Hello World!", "2NEpo7TZRRrLZSi2U"),
            (
                "The quick brown fox jumps over the lazy dog.",
                "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"
            ),
        ]
    )
    func draftExamples(text: String, expected: String) throws {
        #expect(Base58.encode(Array(text.utf8)) == expected)
        #expect(try Base58.decode(Substring(expected)) == Array(text.utf8))
    }

    @Test("Keeps leading zero bytes as leading '1's, and encodes nothing as nothing")
    func leadingZeros() throws {
        #expect(Base58.encode([UInt8]()) == "")
        #expect(Base58.encode([0, 0, 0]) == "111")
        #expect(Base58.encode([0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd]) == "11233QC4")
        #expect(try Base58.decode("11233QC4") == [0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd])
    }

    @Test("Agrees with the digit-by-digit reference and round-trips, for 2,000 random inputs of 0 to 80 bytes")
    func randomInputs() throws {
        var generator = SplitMix64(seed: 58)
        for round in 0..<2_000 {
            let length = Int.random(in: 0...80, using: &generator)
            let zeros = round % 4 == 0 ? Int.random(in: 0...3, using: &generator) : 0
            let bytes =
                [UInt8](repeating: 0, count: min(zeros, length))
                + (0..<max(0, length - zeros)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base58.encode(bytes)
            #expect(encoded == Self.referenceEncode(bytes), "input \(bytes)")
            #expect(try Base58.decode(Substring(encoded)) == bytes)
        }
    }
}
