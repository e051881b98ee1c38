// Noise HandshakeState (https://noiseprotocol.org/noise.html, rev 34, §5.3) for the XX pattern
// (§7.5) with X25519 (§12.1), ChaChaPoly and SHA-256: `Noise_XX_25519_ChaChaPoly_SHA256`.

import Crypto
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Noise `HandshakeState` for `Noise_XX_25519_ChaChaPoly_SHA256`.
///
/// ```
/// XX:  -> e
///      <- e, ee, s, es
///      -> s, se
/// ```
///
/// Keys are passed in (static and ephemeral), so the handshake is deterministic and the published
/// test vectors can run. The caller must alternate ``writeMessage(payload:)`` and
/// ``readMessage(_:)`` in pattern order; after the third message ``split()`` yields the transport
/// cipher states. Calls out of order are programming errors and trap; bad bytes from the peer
/// throw a ``NoiseError``.
struct HandshakeState {
    /// The full Noise protocol name; exactly 32 bytes, so it is also the initial `h` (Noise §5.2).
    static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"
    /// The number of messages in the XX pattern.
    static let messageCount = 3
    /// X25519 public key length (Noise's `DHLEN`).
    static let dhLength = 32

    /// Our role.
    let role: NoiseRole
    private var symmetricState: SymmetricState
    private let localStatic: Curve25519.KeyAgreement.PrivateKey
    private let localEphemeral: Curve25519.KeyAgreement.PrivateKey
    private let localStaticPublic: NoiseBytes32
    private let localEphemeralPublic: NoiseBytes32
    /// The remote party's static public key (`rs`), known after it has been received.
    private(set) var remoteStatic: Curve25519.KeyAgreement.PublicKey?
    private var remoteEphemeral: Curve25519.KeyAgreement.PublicKey?
    /// How many handshake messages have been written or read so far (0 to 3).
    private(set) var messageIndex = 0

    /// Noise's `Initialize(...)` for XX: no pre-messages, so only the prologue is mixed in.
    ///
    /// - Parameters:
    ///   - role: Initiator or responder.
    ///   - prologue: Bytes both sides must agree on; libp2p over TCP uses an empty prologue.
    ///   - localStatic: Our static X25519 key pair (`s`).
    ///   - localEphemeral: Our ephemeral X25519 key pair (`e`), normally fresh for each handshake.
    init(
        role: NoiseRole,
        prologue: [UInt8] = [],
        localStatic: Curve25519.KeyAgreement.PrivateKey,
        localEphemeral: Curve25519.KeyAgreement.PrivateKey
    ) {
        self.role = role
        self.symmetricState = SymmetricState(protocolName: Self.protocolName)
        self.localStatic = localStatic
        self.localEphemeral = localEphemeral
        self.localStaticPublic = localStatic.publicKey.rawRepresentation.withUnsafeBytes { NoiseBytes32(prefixOf: $0) }
        self.localEphemeralPublic = localEphemeral.publicKey.rawRepresentation.withUnsafeBytes {
            NoiseBytes32(prefixOf: $0)
        }
        prologue.withUnsafeBytes { self.symmetricState.mixHash($0) }
    }

    /// Whether all three messages have been processed.
    var isComplete: Bool { self.messageIndex == Self.messageCount }

    /// Whether the next message is ours to write.
    var isOurTurnToWrite: Bool {
        guard !self.isComplete else { return false }
        // Even-numbered messages (0, 2) come from the initiator.
        return (self.messageIndex % 2 == 0) == (self.role == .initiator)
    }

    /// The handshake hash `h`, which both sides share once the handshake is complete.
    var handshakeHash: [UInt8] { self.symmetricState.handshakeHash.bytes }

    /// Noise's `WriteMessage(payload, message_buffer)`: returns the next handshake message.
    mutating func writeMessage(payload: ByteBuffer) throws(NoiseError) -> ByteBuffer {
        precondition(self.isOurTurnToWrite, "Noise XX: writeMessage called out of turn (message \(self.messageIndex))")
        var message = ByteBuffer()
        message.reserveCapacity(
            Self.dhLength * 2 + CipherState.tagLength * 2 + payload.readableBytes
        )
        switch self.messageIndex {
        case 0:
            // -> e
            self.writeEphemeral(into: &message)
        case 1:
            // <- e, ee, s, es
            self.writeEphemeral(into: &message)
            try self.mixKey(self.localEphemeral, self.remoteEphemeral)
            try self.writeStatic(into: &message)
            try self.mixKey(self.localStatic, self.remoteEphemeral)
        case 2:
            // -> s, se
            try self.writeStatic(into: &message)
            try self.mixKey(self.localStatic, self.remoteEphemeral)
        default:
            preconditionFailure("Noise XX has only three messages")
        }
        try payload.withUnsafeReadableBytes { (bytes) throws(NoiseError) in
            try self.symmetricState.encryptAndHash(bytes, appendingTo: &message)
        }
        self.messageIndex += 1
        return message
    }

    /// Noise's `ReadMessage(message, payload_buffer)`: processes the peer's next handshake message
    /// and returns its decrypted payload.
    mutating func readMessage(_ message: ByteBuffer) throws(NoiseError) -> ByteBuffer {
        precondition(
            !self.isComplete && !self.isOurTurnToWrite,
            "Noise XX: readMessage called out of turn (message \(self.messageIndex))"
        )
        let payload = try message.withUnsafeReadableBytes { (bytes) throws(NoiseError) -> ByteBuffer in
            var rest = bytes
            switch self.messageIndex {
            case 0:
                // -> e
                try self.readEphemeral(from: &rest, messageNumber: 1)
            case 1:
                // <- e, ee, s, es
                try self.requireLength(
                    rest,
                    Self.dhLength * 2 + CipherState.tagLength * 2,
                    messageNumber: 2
                )
                try self.readEphemeral(from: &rest, messageNumber: 2)
                try self.mixKey(self.localEphemeral, self.remoteEphemeral)
                try self.readStatic(from: &rest, messageNumber: 2)
                try self.mixKey(self.localEphemeral, self.remoteStatic)
            case 2:
                // -> s, se
                try self.requireLength(rest, Self.dhLength + CipherState.tagLength * 2, messageNumber: 3)
                try self.readStatic(from: &rest, messageNumber: 3)
                try self.mixKey(self.localEphemeral, self.remoteStatic)
            default:
                preconditionFailure("Noise XX has only three messages")
            }
            var payload = ByteBuffer()
            payload.reserveCapacity(rest.count)
            try self.symmetricState.decryptAndHash(rest, appendingTo: &payload)
            return payload
        }
        self.messageIndex += 1
        return payload
    }

    /// Noise's `Split()`: the transport cipher states, as (ours to send, ours to receive).
    func split() -> (send: CipherState, receive: CipherState) {
        precondition(self.isComplete, "Noise XX: split called before the handshake completed")
        let (initiatorToResponder, responderToInitiator) = self.symmetricState.split()
        switch self.role {
        case .initiator: return (initiatorToResponder, responderToInitiator)
        case .responder: return (responderToInitiator, initiatorToResponder)
        }
    }

    // MARK: - Tokens

    /// Token `e` (writing): append our ephemeral public key and mix it into `h`.
    private mutating func writeEphemeral(into message: inout ByteBuffer) {
        let publicKey = self.localEphemeralPublic
        publicKey.withUnsafeBytes { bytes in
            message.writeBytes(bytes)
            self.symmetricState.mixHash(bytes)
        }
    }

    /// Token `s` (writing): append our encrypted static public key.
    private mutating func writeStatic(into message: inout ByteBuffer) throws(NoiseError) {
        let publicKey = self.localStaticPublic
        try publicKey.withUnsafeBytes { (bytes) throws(NoiseError) in
            try self.symmetricState.encryptAndHash(bytes, appendingTo: &message)
        }
    }

    /// Token `e` (reading): take the peer's ephemeral public key and mix it into `h`.
    private mutating func readEphemeral(
        from rest: inout UnsafeRawBufferPointer,
        messageNumber: Int
    ) throws(NoiseError) {
        try self.requireLength(rest, Self.dhLength, messageNumber: messageNumber)
        let bytes = UnsafeRawBufferPointer(rebasing: rest[..<Self.dhLength])
        rest = UnsafeRawBufferPointer(rebasing: rest[Self.dhLength...])
        self.remoteEphemeral = try Self.publicKey(bytes)
        self.symmetricState.mixHash(bytes)
    }

    /// Token `s` (reading): decrypt the peer's static public key.
    private mutating func readStatic(
        from rest: inout UnsafeRawBufferPointer,
        messageNumber: Int
    ) throws(NoiseError) {
        let length = Self.dhLength + (self.symmetricState.hasKey ? CipherState.tagLength : 0)
        try self.requireLength(rest, length, messageNumber: messageNumber)
        let ciphertext = UnsafeRawBufferPointer(rebasing: rest[..<length])
        rest = UnsafeRawBufferPointer(rebasing: rest[length...])
        var plaintext = ByteBuffer()
        plaintext.reserveCapacity(Self.dhLength)
        try self.symmetricState.decryptAndHash(ciphertext, appendingTo: &plaintext)
        self.remoteStatic = try plaintext.withUnsafeReadableBytes { (bytes) throws(NoiseError) in
            try Self.publicKey(bytes)
        }
    }

    /// Tokens `ee`, `es`, `se`: `MixKey(DH(local, remote))`, refusing an all-zero shared secret.
    private mutating func mixKey(
        _ local: Curve25519.KeyAgreement.PrivateKey,
        _ remote: Curve25519.KeyAgreement.PublicKey?
    ) throws(NoiseError) {
        guard let remote else {
            preconditionFailure("Noise XX: DH token before the remote key was known")
        }
        let sharedSecret: SharedSecret
        do {
            sharedSecret = try local.sharedSecretFromKeyAgreement(with: remote)
        } catch {
            preconditionFailure("X25519 with 32-byte keys cannot fail: \(error)")
        }
        // A low-order remote point gives an all-zero output; refuse it, as go-libp2p does.
        let isZero = sharedSecret.withUnsafeBytes { bytes in bytes.reduce(UInt8(0)) { $0 | $1 } == 0 }
        guard !isZero else {
            throw .invalidRemoteKey("the remote X25519 public key is a low-order point")
        }
        self.symmetricState.mixKey(sharedSecret)
    }

    private func requireLength(
        _ bytes: UnsafeRawBufferPointer,
        _ length: Int,
        messageNumber: Int
    ) throws(NoiseError) {
        guard bytes.count >= length else {
            throw .malformedHandshakeMessage(
                "handshake message \(messageNumber) is too short: \(bytes.count) bytes left where \(length) are needed"
            )
        }
    }

    private static func publicKey(
        _ bytes: UnsafeRawBufferPointer
    ) throws(NoiseError) -> Curve25519.KeyAgreement.PublicKey {
        do {
            return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
        } catch {
            throw .invalidRemoteKey("an X25519 public key must be \(Self.dhLength) bytes, got \(bytes.count)")
        }
    }
}
