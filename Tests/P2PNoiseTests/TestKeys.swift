import Crypto
import NIOCore
import P2PCore

@testable import P2PNoise

/// Fixed keys, so every handshake in the tests is deterministic.
enum TestKeys {
    static func identity(_ fill: UInt8) -> PrivateKey {
        // A 32-byte seed is always a valid Ed25519 key.
        try! PrivateKey(ed25519Seed: [UInt8](repeating: fill, count: 32))
    }

    static func x25519(_ fill: UInt8) -> Curve25519.KeyAgreement.PrivateKey {
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: fill, count: 32))
    }

    static let initiatorIdentity = identity(0x11)
    static let responderIdentity = identity(0x22)
    static let strangerIdentity = identity(0x33)

    static let initiatorStatic = x25519(0x44)
    static let responderStatic = x25519(0x55)
    static let initiatorEphemeral = x25519(0x66)
    static let responderEphemeral = x25519(0x77)

    static var initiatorPeerID: PeerID { PeerID(publicKey: initiatorIdentity.publicKey) }
    static var responderPeerID: PeerID { PeerID(publicKey: responderIdentity.publicKey) }
    static var strangerPeerID: PeerID { PeerID(publicKey: strangerIdentity.publicKey) }

    static func configuration(
        _ identity: PrivateKey,
        staticKey: Curve25519.KeyAgreement.PrivateKey,
        extensions: NoiseExtensions? = nil
    ) -> NoiseConfiguration {
        try! NoiseConfiguration(localIdentity: identity, staticKey: staticKey, extensions: extensions)
    }

    static var initiatorConfiguration: NoiseConfiguration {
        configuration(initiatorIdentity, staticKey: initiatorStatic)
    }

    static var responderConfiguration: NoiseConfiguration {
        configuration(responderIdentity, staticKey: responderStatic)
    }

    static func initiator(
        configuration: NoiseConfiguration = initiatorConfiguration,
        expecting peer: PeerID? = nil
    ) -> NoiseHandshakeStateMachine {
        NoiseHandshakeStateMachine(
            role: .initiator,
            configuration: configuration,
            ephemeralKey: initiatorEphemeral,
            expectedRemotePeer: peer
        )
    }

    static func responder(
        configuration: NoiseConfiguration = responderConfiguration,
        expecting peer: PeerID? = nil
    ) -> NoiseHandshakeStateMachine {
        NoiseHandshakeStateMachine(
            role: .responder,
            configuration: configuration,
            ephemeralKey: responderEphemeral,
            expectedRemotePeer: peer
        )
    }
}
