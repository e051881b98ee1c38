import Crypto
import Foundation
import NIOCore
import NIOEmbedded
import Testing

@testable import P2PNoise

/// An opt-in measurement, not a unit test: it reads the clock and prints a rate.
/// Run with `P2PNOISE_MEASURE=1 swift test --filter HandshakeThroughput` (numbers from a debug
/// build are only indicative; the crypto itself is BoringSSL either way).
@Suite(
    "Noise handshake throughput (information only)",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["P2PNOISE_MEASURE"] != nil)
)
struct HandshakeThroughputTests {
    /// `P2PNOISE_MEASURE=<n>` runs n handshakes (default 300).
    static let count = ProcessInfo.processInfo.environment["P2PNOISE_MEASURE"].flatMap { Int($0) } ?? 300

    @Test("Machine-level XX handshakes, both sides on one core, one configuration per side as a node would")
    func machineHandshakes() throws {
        let initiatorConfiguration = TestKeys.initiatorConfiguration
        let responderConfiguration = TestKeys.responderConfiguration
        let clock = ContinuousClock()
        var completed = 0
        let elapsed = try clock.measure {
            for _ in 0..<Self.count {
                var initiator = NoiseHandshakeStateMachine(
                    role: .initiator,
                    configuration: initiatorConfiguration,
                    ephemeralKey: Curve25519.KeyAgreement.PrivateKey(),
                    expectedRemotePeer: TestKeys.responderPeerID
                )
                var responder = NoiseHandshakeStateMachine(
                    role: .responder,
                    configuration: responderConfiguration,
                    ephemeralKey: Curve25519.KeyAgreement.PrivateKey(),
                    expectedRemotePeer: nil
                )
                _ = try NoiseHandshakeStateMachineTests.handshake(&initiator, &responder)
                completed += 1
            }
        }
        #expect(completed == Self.count)
        Self.report("machine", elapsed: elapsed)
    }

    @Test("Handler-level XX handshakes on back-to-back embedded channels, fresh static key per connection")
    func handlerHandshakes() throws {
        let clock = ContinuousClock()
        var completed = 0
        let elapsed = try clock.measure {
            for _ in 0..<Self.count {
                let loop = EmbeddedEventLoop()
                let dialler = EmbeddedChannel(loop: loop)
                let listener = EmbeddedChannel(loop: loop)
                let diallerResult = dialler.pipeline.configureNoise(
                    role: .initiator,
                    localKey: TestKeys.initiatorIdentity
                )
                let listenerResult = listener.pipeline.configureNoise(
                    role: .responder,
                    localKey: TestKeys.responderIdentity
                )
                let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4001)
                try listener.connect(to: address).wait()
                try dialler.connect(to: address).wait()
                var moved = true
                while moved {
                    moved = false
                    while let bytes = try dialler.readOutbound(as: ByteBuffer.self) {
                        try listener.writeInbound(bytes)
                        moved = true
                    }
                    while let bytes = try listener.readOutbound(as: ByteBuffer.self) {
                        try dialler.writeInbound(bytes)
                        moved = true
                    }
                }
                _ = try diallerResult.wait()
                _ = try listenerResult.wait()
                completed += 1
            }
        }
        #expect(completed == Self.count)
        Self.report("handler", elapsed: elapsed)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func report(_ what: String, elapsed: Duration) {
        let seconds = Self.seconds(elapsed)
        let pairs = Double(Self.count) / seconds
        print(
            "P2PNoise \(what): \(Self.count) handshakes in \(String(format: "%.3f", seconds)) s = "
                + "\(String(format: "%.0f", pairs)) initiator+responder pairs/s "
                + "(\(String(format: "%.0f", 2 * pairs)) handshake sides/s)"
        )
    }
}

extension HandshakeThroughputTests {
    @Test("Primitive costs in this build, for the crypto floor of one handshake side")
    func primitives() throws {
        let clock = ContinuousClock()
        let local = Curve25519.KeyAgreement.PrivateKey()
        let remote = Curve25519.KeyAgreement.PrivateKey().publicKey
        let count = 300
        let dh = try clock.measure {
            for _ in 0..<count { _ = try local.sharedSecretFromKeyAgreement(with: remote) }
        }
        let keygen = clock.measure { for _ in 0..<count { _ = Curve25519.KeyAgreement.PrivateKey() } }
        let signer = Curve25519.Signing.PrivateKey()
        let message = [UInt8](repeating: 1, count: 56)
        let signature = try signer.signature(for: message)
        let publicKey = signer.publicKey
        let verify = clock.measure {
            for _ in 0..<count { #expect(publicKey.isValidSignature(signature, for: message)) }
        }
        // One side of XX: 3 DH, 1 ephemeral key generation, 1 signature verification.
        let floor = (dh * 3 + keygen + verify) / count
        print(
            "P2PNoise primitives per op: X25519 \(dh / count), keygen \(keygen / count), "
                + "Ed25519 verify \(verify / count); one side's floor \(floor) = "
                + "\(String(format: "%.0f", 1 / Self.seconds(floor))) sides/s"
        )
    }
}
