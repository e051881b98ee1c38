// libp2p Noise transport messages (https://github.com/libp2p/specs/blob/master/noise/README.md#wire-format)
// encrypted with the cipher states from Noise `Split()` (https://noiseprotocol.org/noise.html §5.2).

package import NIOCore

/// The two cipher states of an established Noise session, working on whole transport frames.
///
/// Outbound plaintext of any length becomes frames of at most ``maximumPlaintextLength`` bytes,
/// each `length (2 bytes, big-endian) ‖ ciphertext ‖ tag`. Inbound frames (without their length
/// prefix) are authenticated and decrypted in order. Associated data is empty for transport
/// messages. A cipher state that reaches its last nonce fails with ``NoiseError/Code/nonceExhausted``.
package struct NoiseTransportState: Equatable {
    /// The largest plaintext in one frame: 65535 − 16 (the ChaChaPoly tag).
    package static let maximumPlaintextLength = NoiseFrameDecoder.maximumMessageLength - CipherState.tagLength

    private var sendCipher: CipherState
    private var receiveCipher: CipherState
    /// The plaintext size of each outbound frame (at most ``maximumPlaintextLength``).
    package var outboundChunkLength = NoiseTransportState.maximumPlaintextLength {
        didSet {
            precondition((1...Self.maximumPlaintextLength).contains(self.outboundChunkLength), "bad Noise chunk length")
        }
    }

    /// A session that encrypts with `send` and decrypts with `receive`, through the system's OpenSSL when it is
    /// available and `systemCipher` is `true` (see ``CipherState/preparedForTransport(sealing:)``).
    init(send: CipherState, receive: CipherState, systemCipher: Bool = true) {
        self.sendCipher = systemCipher ? send.preparedForTransport(sealing: true) : send
        self.receiveCipher = systemCipher ? receive.preparedForTransport(sealing: false) : receive
    }

    /// The nonce of the next outbound frame.
    package var sendNonce: UInt64 { self.sendCipher.nonce }
    /// The nonce of the next inbound frame.
    package var receiveNonce: UInt64 { self.receiveCipher.nonce }

    /// The number of bytes ``encrypt(_:appendingTo:)`` writes for `plaintextLength` bytes.
    package func encryptedLength(ofPlaintextLength plaintextLength: Int) -> Int {
        let frames = (plaintextLength + self.outboundChunkLength - 1) / self.outboundChunkLength
        return plaintextLength + frames * (NoiseFrameDecoder.lengthPrefixSize + CipherState.tagLength)
    }

    /// Encrypts every readable byte of `plaintext` into frames appended to `output`.
    ///
    /// An empty plaintext writes nothing.
    package mutating func encrypt(_ plaintext: ByteBuffer, appendingTo output: inout ByteBuffer) throws(NoiseError) {
        output.reserveCapacity(
            minimumWritableBytes: self.encryptedLength(ofPlaintextLength: plaintext.readableBytes)
        )
        try plaintext.withUnsafeReadableBytes { (bytes) throws(NoiseError) in
            var start = 0
            while start < bytes.count {
                let end = min(start + self.outboundChunkLength, bytes.count)
                output.writeInteger(UInt16(end - start + CipherState.tagLength), endianness: .big)
                try self.sendCipher.encrypt(
                    authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                    plaintext: UnsafeRawBufferPointer(rebasing: bytes[start..<end]),
                    appendingTo: &output
                )
                start = end
            }
        }
    }

    /// Encrypts the readable bytes of `parts`, in order, as one frame appended to `output`: the same frame as
    /// ``encrypt(_:appendingTo:)`` on the parts joined, without joining them first.
    ///
    /// - Parameter plaintextLength: The parts' total readable bytes, from 1 to ``outboundChunkLength``.
    package mutating func encryptFrame(
        gathering parts: [ByteBuffer],
        plaintextLength: Int,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        precondition((1...self.outboundChunkLength).contains(plaintextLength), "bad Noise frame plaintext length")
        output.reserveCapacity(
            minimumWritableBytes: NoiseFrameDecoder.lengthPrefixSize + plaintextLength + CipherState.tagLength
        )
        output.writeInteger(UInt16(plaintextLength + CipherState.tagLength), endianness: .big)
        try self.sendCipher.encrypt(gathering: parts, plaintextLength: plaintextLength, appendingTo: &output)
    }

    /// Authenticates and decrypts one transport message (a frame without its length prefix),
    /// appending the plaintext to `output`.
    package mutating func decrypt(frame: ByteBuffer, appendingTo output: inout ByteBuffer) throws(NoiseError) {
        guard frame.readableBytes >= CipherState.tagLength else {
            throw .decryptionFailed(
                "transport frame of \(frame.readableBytes) bytes is shorter than the \(CipherState.tagLength)-byte tag"
            )
        }
        try frame.withUnsafeReadableBytes { (bytes) throws(NoiseError) in
            try self.receiveCipher.decrypt(
                authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                ciphertext: bytes,
                appendingTo: &output
            )
        }
    }
}
