import Crypto
import Foundation
import NIOCore
import NIOEmbedded
import Testing

@testable import P2PNoise

/// An opt-in measurement, not a unit test: it reads the thread's CPU-time clock and prints a rate.
/// Run with `P2PNOISE_MEASURE=2000 swift test --filter HandshakeThroughput`. Debug numbers are
/// meaningless (BoringSSL and swift-crypto built with -Onone are 5-15x slower); for real numbers run
/// the release test binary: `swift build -c release --build-tests -Xswiftc -enable-testing`, then
/// `P2PNOISE_MEASURE=2000 .build/release/<package>PackageTests.xctest --testing-library swift-testing
/// --filter HandshakeThroughputTests`.
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
        let clock = ThreadCPUClock()
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

    @Test(
        "Handler-level XX handshakes on back-to-back embedded channels",
        arguments: [true, false]
    )
    func handlerHandshakes(sharedConfiguration: Bool) throws {
        let initiatorShared = TestKeys.initiatorConfiguration
        let responderShared = TestKeys.responderConfiguration
        let clock = ThreadCPUClock()
        var completed = 0
        let elapsed = try clock.measure {
            for _ in 0..<Self.count {
                let loop = EmbeddedEventLoop()
                let dialler = EmbeddedChannel(loop: loop)
                let listener = EmbeddedChannel(loop: loop)
                // A node reuses one configuration; otherwise each connection pays a key generation and a signature.
                let diallerResult = try dialler.pipeline.syncOperations.configureNoise(
                    role: .initiator,
                    configuration: sharedConfiguration
                        ? initiatorShared : try NoiseConfiguration(localIdentity: TestKeys.initiatorIdentity)
                )
                let listenerResult = try listener.pipeline.syncOperations.configureNoise(
                    role: .responder,
                    configuration: sharedConfiguration
                        ? responderShared : try NoiseConfiguration(localIdentity: TestKeys.responderIdentity)
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
        Self.report(
            sharedConfiguration
                ? "handler (shared configuration)" : "handler (fresh static key and signature per connection)",
            elapsed: elapsed
        )
    }

    @Test(
        "Transport encryption and decryption of 64 MiB in 1 MiB writes",
        arguments: [16_384, 32_768, 65_519]
    )
    func transportThroughput(chunkLength: Int) throws {
        var initiator = TestKeys.initiator()
        var responder = TestKeys.responder()
        let done = try NoiseHandshakeStateMachineTests.handshake(&initiator, &responder)
        var sender = done.initiatorTransport
        sender.outboundChunkLength = chunkLength
        var receiver = done.responderTransport
        let chunk = ByteBuffer(repeating: 0x5A, count: 1 << 20)
        let rounds = 64
        let clock = ThreadCPUClock()
        var wires: [ByteBuffer] = []
        wires.reserveCapacity(rounds)
        let sealing = try clock.measure {
            for _ in 0..<rounds {
                var wire = ByteBuffer()
                try sender.encrypt(chunk, appendingTo: &wire)
                wires.append(wire)
            }
        }
        var decoder = NoiseFrameDecoder()
        var received = 0
        let opening = try clock.measure {
            for var wire in wires {
                var plaintext = ByteBuffer()
                plaintext.reserveCapacity(chunk.readableBytes)
                while let frame = try decoder.decode(buffer: &wire) {
                    try receiver.decrypt(frame: frame, appendingTo: &plaintext)
                }
                received += plaintext.readableBytes
            }
        }
        #expect(received == rounds * chunk.readableBytes)
        let megabytes = Double(rounds * chunk.readableBytes) / 1e6
        print(
            "P2PNoise transport, \(chunkLength)-byte frames: encrypt \(String(format: "%.0f", megabytes / Self.seconds(sealing))) MB/s, "
                + "decrypt \(String(format: "%.0f", megabytes / Self.seconds(opening))) MB/s (thread CPU time)"
        )
    }

    @Test("Primitive costs in this build, for the crypto floor of one handshake side")
    func primitives() throws {
        let clock = ThreadCPUClock()
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

    /// Measures the calling thread's CPU time, so other processes on a shared machine skew the numbers less.
    struct ThreadCPUClock {
        func now() -> Duration {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
        }

        func measure(_ body: () throws -> Void) rethrows -> Duration {
            let start = self.now()
            try body()
            return self.now() - start
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func report(_ what: String, elapsed: Duration) {
        let seconds = Self.seconds(elapsed)
        let pairs = Double(Self.count) / seconds
        print(
            "P2PNoise \(what): \(Self.count) handshakes in \(String(format: "%.3f", seconds)) s of thread CPU time = "
                + "\(String(format: "%.0f", pairs)) initiator+responder pairs/s "
                + "(\(String(format: "%.0f", 2 * pairs)) handshake sides/s)"
        )
    }
}
