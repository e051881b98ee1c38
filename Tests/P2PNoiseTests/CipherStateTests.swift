import Crypto
import NIOCore
import Testing

@testable import P2PNoise

@Suite("Noise cipher state")
struct CipherStateTests {
    private static let key = SymmetricKey(data: [UInt8](repeating: 0x42, count: 32))
    private static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    private static func seal(_ state: inout CipherState, _ plaintext: [UInt8]) throws -> ByteBuffer {
        var out = ByteBuffer()
        try plaintext.withUnsafeBytes { bytes in
            try state.encrypt(authenticating: Self.empty, plaintext: bytes, appendingTo: &out)
        }
        return out
    }

    private static func open(_ state: inout CipherState, _ ciphertext: [UInt8]) throws -> [UInt8] {
        var out = ByteBuffer()
        try ciphertext.withUnsafeBytes { bytes in
            try state.decrypt(authenticating: Self.empty, ciphertext: bytes, appendingTo: &out)
        }
        return out.bytes
    }

    @Test("Without a key, bytes pass through unchanged and the nonce does not move")
    func noKey() throws {
        var state = CipherState(key: nil)
        #expect(try Self.seal(&state, [1, 2, 3]).bytes == [1, 2, 3])
        #expect(try Self.open(&state, [4, 5]) == [4, 5])
        #expect(state.nonce == 0)
    }

    @Test("Nonces advance per message and the ChaChaPoly nonce is 4 zero bytes then the counter little-endian")
    func nonceLayout() throws {
        var sender = CipherState(key: Self.key, nonce: 0x0102_0304_0506_0708)
        let sealed = try Self.seal(&sender, [9, 9, 9])
        #expect(sender.nonce == 0x0102_0304_0506_0709)
        let nonce = try ChaChaPoly.Nonce(data: [0, 0, 0, 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        let reference = try ChaChaPoly.seal([UInt8]([9, 9, 9]), using: Self.key, nonce: nonce)
        #expect(sealed.bytes == Array(reference.ciphertext + reference.tag))
    }

    @Test("The last usable nonce is 2^64 - 2; after it the state refuses to encrypt or decrypt")
    func nonceExhaustion() throws {
        var sender = CipherState(key: Self.key, nonce: UInt64.max - 1)
        var receiver = CipherState(key: Self.key, nonce: UInt64.max - 1)
        let last = try Self.seal(&sender, [1])
        #expect(try Self.open(&receiver, last.bytes) == [1])
        #expect(sender.nonce == UInt64.max)
        let sendError = try #require(throws: NoiseError.self) { try Self.seal(&sender, [2]) }
        #expect(sendError.code == .nonceExhausted)
        let receiveError = try #require(throws: NoiseError.self) { try Self.open(&receiver, last.bytes) }
        #expect(receiveError.code == .nonceExhausted)
    }

    @Test("A ciphertext shorter than the tag, or with any byte flipped, fails authentication")
    func tampering() throws {
        var sender = CipherState(key: Self.key)
        let sealed = try Self.seal(&sender, Array("hello noise".utf8)).bytes
        for index in sealed.indices {
            var receiver = CipherState(key: Self.key)
            var tampered = sealed
            tampered[index] ^= 0x80
            let error = try #require(throws: NoiseError.self) { try Self.open(&receiver, tampered) }
            #expect(error.code == .decryptionFailed)
            #expect(receiver.nonce == 0)
        }
        var receiver = CipherState(key: Self.key)
        let error = try #require(throws: NoiseError.self) { try Self.open(&receiver, Array(sealed.prefix(15))) }
        #expect(error.code == .decryptionFailed)
    }
}
