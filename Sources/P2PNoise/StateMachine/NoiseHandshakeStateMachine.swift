// The libp2p layer over Noise XX (https://github.com/libp2p/specs/blob/master/noise/README.md):
// empty prologue, empty message-1 payload, signed identity payloads in messages 2 and 3.

package import Crypto
package import NIOCore
package import P2PCore

/// The libp2p Noise handshake for one connection, initiator or responder.
///
/// ```
/// initiator                                   responder
///   start()          -> e                     start() (waits)
///                       <- e, ee, s, es, payload(responder identity)
///   messageReceived  -> s, se, payload(initiator identity)        [initiator done]
///                                             messageReceived     [responder done]
/// ```
///
/// The machine verifies the remote payload: the identity key decodes, its signature covers
/// `"noise-libp2p-static-key:" ‖ the static key received in the handshake`, and the derived peer ID
/// equals the expected one when the dialled address named one. Any failure is final. Keys are
/// passed in; the machine never generates keys, logs or touches a channel.
package struct NoiseHandshakeStateMachine {
    private enum State {
        /// Not started: the initiator has not sent message 1; the responder accepts message 1 already.
        case idle(HandshakeState)
        /// Waiting for the peer's next handshake message.
        case awaitingMessage(HandshakeState)
        /// The handshake completed; transport frames belong to ``NoiseTransportState``.
        case completed
        /// The handshake failed; nothing more is processed.
        case failed
    }

    /// What to do once the connection is active.
    package enum StartAction: Equatable {
        /// Send this handshake message (message 1, initiator only).
        case sendMessage(ByteBuffer)
        /// Nothing to send: wait for the peer.
        case doNothing
    }

    /// What to do with a received handshake message.
    package enum MessageReceivedAction: Equatable {
        /// Send this handshake message and keep waiting (responder after message 1).
        case sendMessage(ByteBuffer)
        /// Send this final handshake message; the handshake is complete (initiator after message 2).
        case sendMessageAndComplete(ByteBuffer, NoiseHandshakeResult, NoiseTransportState)
        /// The handshake is complete with nothing to send (responder after message 3).
        case complete(NoiseHandshakeResult, NoiseTransportState)
        /// The handshake failed: close the connection with this error.
        case fail(NoiseError)
        /// The message arrived after a failure and is ignored.
        case doNothing
    }

    /// Our role.
    package let role: NoiseRole
    private let configuration: NoiseConfiguration
    private let expectedRemotePeer: PeerID?
    private var state: State

    /// A handshake with the given local keys.
    ///
    /// - Parameters:
    ///   - role: Initiator (the dialler) or responder.
    ///   - configuration: Our identity, static key and prepared signed payload.
    ///   - ephemeralKey: A fresh X25519 key for this handshake (`e`).
    ///   - expectedRemotePeer: The peer ID the dialled address named, checked against the remote identity.
    package init(
        role: NoiseRole,
        configuration: NoiseConfiguration,
        ephemeralKey: Curve25519.KeyAgreement.PrivateKey,
        expectedRemotePeer: PeerID?
    ) {
        self.role = role
        self.configuration = configuration
        self.expectedRemotePeer = expectedRemotePeer
        self.state = .idle(
            HandshakeState(
                role: role,
                prologue: [],
                localStatic: configuration.staticKey,
                localEphemeral: ephemeralKey
            )
        )
    }

    /// The connection became active: the initiator sends message 1 (its ephemeral key, no payload).
    package mutating func start() -> StartAction {
        guard case .idle(var handshake) = self.state else {
            return .doNothing
        }
        switch self.role {
        case .responder:
            self.state = .awaitingMessage(handshake)
            return .doNothing
        case .initiator:
            do {
                let message = try handshake.writeMessage(payload: ByteBuffer())
                self.state = .awaitingMessage(handshake)
                return .sendMessage(message)
            } catch {
                preconditionFailure("writing Noise message 1 cannot fail: \(error)")
            }
        }
    }

    /// A handshake message (a frame without its length prefix) arrived from the peer.
    package mutating func messageReceived(_ message: ByteBuffer) -> MessageReceivedAction {
        let handshake: HandshakeState
        switch self.state {
        case .idle(let current) where self.role == .responder:
            handshake = current
        case .idle:
            self.state = .failed
            return .fail(.malformedHandshakeMessage("received \(message.readableBytes) bytes before sending message 1"))
        case .awaitingMessage(let current):
            handshake = current
        case .completed:
            preconditionFailure("Noise handshake machine received a frame after completion")
        case .failed:
            return .doNothing
        }
        do {
            return try self.process(message, handshake: handshake)
        } catch {
            self.state = .failed
            return .fail(error)
        }
    }

    private mutating func process(
        _ message: ByteBuffer,
        handshake: HandshakeState
    ) throws(NoiseError) -> MessageReceivedAction {
        var handshake = handshake
        switch (self.role, handshake.messageIndex) {
        case (.responder, 0):
            // -> e: libp2p sends no payload in message 1 (it would be unencrypted).
            let payload = try handshake.readMessage(message)
            guard payload.readableBytes == 0 else {
                throw .malformedHandshakeMessage(
                    "message 1 must hold only the \(HandshakeState.dhLength)-byte ephemeral key, got \(message.readableBytes) bytes"
                )
            }
            let reply = try handshake.writeMessage(payload: ByteBuffer(bytes: self.configuration.encodedPayload))
            self.state = .awaitingMessage(handshake)
            return .sendMessage(reply)
        case (.initiator, 1):
            // <- e, ee, s, es, payload
            let payload = try handshake.readMessage(message)
            let result = try self.verify(payload, remoteStatic: handshake.remoteStatic)
            let reply = try handshake.writeMessage(payload: ByteBuffer(bytes: self.configuration.encodedPayload))
            self.state = .completed
            let (send, receive) = handshake.split()
            return .sendMessageAndComplete(reply, result, NoiseTransportState(send: send, receive: receive))
        case (.responder, 2):
            // -> s, se, payload
            let payload = try handshake.readMessage(message)
            let result = try self.verify(payload, remoteStatic: handshake.remoteStatic)
            self.state = .completed
            let (send, receive) = handshake.split()
            return .complete(result, NoiseTransportState(send: send, receive: receive))
        case (let role, let index):
            preconditionFailure("Noise handshake machine: \(role) awaiting message with index \(index)")
        }
    }

    /// Checks the remote payload and derives the remote identity.
    private func verify(
        _ payloadBytes: ByteBuffer,
        remoteStatic: Curve25519.KeyAgreement.PublicKey?
    ) throws(NoiseError) -> NoiseHandshakeResult {
        guard let remoteStatic else {
            preconditionFailure("Noise handshake machine: payload verified before the remote static key was read")
        }
        let payload = try NoiseHandshakePayload(decoding: payloadBytes)
        let remoteKey: PublicKey
        do {
            remoteKey = try PublicKey(protobufEncoded: payload.identityKey)
        } catch {
            throw .invalidIdentityKey(
                "the remote identity_key (\(payload.identityKey.count) bytes) is not a supported libp2p public key",
                underlying: error
            )
        }
        let signedData = NoiseHandshakePayload.signedData(staticPublicKey: remoteStatic.rawRepresentation)
        guard remoteKey.isValidSignature(payload.identitySignature, for: signedData) else {
            throw .invalidSignature(
                "the remote identity_sig does not sign the Noise static key received in the handshake"
            )
        }
        let peerID = PeerID(publicKey: remoteKey)
        if let expected = self.expectedRemotePeer, expected != peerID {
            throw .peerIDMismatch(expected: expected.description, actual: peerID.description)
        }
        return NoiseHandshakeResult(
            remotePeerID: peerID,
            remotePublicKey: remoteKey,
            remoteExtensions: payload.extensions
        )
    }
}
