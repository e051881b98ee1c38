import Crypto
import NIOCore
public import P2PCore
import P2PNoise

/// The outcome of one `/perf/1.0.0` run (https://github.com/libp2p/specs/blob/master/perf/perf.md).
public struct PerfResult: Sendable, Hashable {
    /// The bytes we sent after the 8-byte header.
    public var uploadedBytes: UInt64
    /// The bytes the peer sent back.
    public var downloadedBytes: UInt64
    /// From opening the stream until our write side was closed (header and upload sent).
    public var uploadDuration: Duration
    /// From the end of the upload until the peer closed its side (all download bytes received).
    public var downloadDuration: Duration

    /// Upload plus download time.
    public var totalDuration: Duration { self.uploadDuration + self.downloadDuration }
}

/// Perf `/perf/1.0.0` over a ``P2PStream``.
///
/// The client writes the number of bytes it wants back as a big-endian u64, then its upload bytes, then closes its
/// write side. The server reads until end of stream, sends the requested number of bytes and closes.
enum Perf {
    /// The protocol ID.
    static let protocolID = "/perf/1.0.0"
    /// The size of the request header.
    static let headerSize = 8
    /// The size of each write: large, so that Yamux cuts it into full frames (each one Noise frame) and a write costs
    /// one hop to the event loop per MiB.
    static let chunkSize = 1024 * 1024

    /// Serves one perf request: reads the header and the upload, then sends the requested bytes and closes.
    ///
    /// - Throws: ``P2PHostError/Code/closed`` when the stream ends before the 8-byte header,
    ///   ``P2PHostError/Code/protocolViolation`` when the request exceeds `maxDownloadBytes`.
    static func respond(on stream: P2PStream, maxDownloadBytes: UInt64 = .max) async throws {
        do {
            var header = try await stream.read(exactly: Self.headerSize)
            guard let requested = header.readInteger(endianness: .big, as: UInt64.self) else {
                throw P2PHostError(.protocolViolation, "perf header is shorter than 8 bytes")
            }
            guard requested <= maxDownloadBytes else {
                throw P2PHostError(
                    .protocolViolation,
                    "perf request of \(requested) bytes exceeds the limit of \(maxDownloadBytes)"
                )
            }
            while try await stream.readChunks() != nil {}
            try await Self.send(requested, on: stream)
            try await stream.closeWrite()
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
    }

    /// Runs one perf request as the client.
    ///
    /// - Throws: ``P2PHostError/Code/protocolViolation`` when the server sends more or fewer bytes than requested.
    static func run<C: Clock<Duration>>(
        on stream: P2PStream,
        uploadBytes: UInt64,
        downloadBytes: UInt64,
        clock: C
    ) async throws -> PerfResult {
        let start = clock.now
        var header = stream.allocator.buffer(capacity: Self.headerSize)
        header.writeInteger(downloadBytes, endianness: .big, as: UInt64.self)
        try await stream.write(header)
        try await Self.send(uploadBytes, on: stream)
        try await stream.closeWrite()
        let uploaded = clock.now
        var received: UInt64 = 0
        while let chunks = try await stream.readChunks() {
            for chunk in chunks {
                received += UInt64(chunk.readableBytes)
            }
            guard received <= downloadBytes else {
                throw P2PHostError(
                    .protocolViolation,
                    "perf server sent more than the \(downloadBytes) requested bytes"
                )
            }
        }
        let done = clock.now
        guard received == downloadBytes else {
            throw P2PHostError(
                .protocolViolation,
                "perf server sent \(received) of the \(downloadBytes) requested bytes"
            )
        }
        return PerfResult(
            uploadedBytes: uploadBytes,
            downloadedBytes: received,
            uploadDuration: start.duration(to: uploaded),
            downloadDuration: uploaded.duration(to: done)
        )
    }

    /// Writes `count` zero bytes in chunks of ``chunkSize``, queueing the next chunk before waiting for the previous
    /// one, so the stream never runs dry while this task hops back to the event loop.
    private static func send(_ count: UInt64, on stream: P2PStream) async throws {
        var remaining = count
        let chunk = stream.allocator.buffer(repeating: 0, count: Self.chunkSize)
        var previous: EventLoopFuture<Void>?
        while remaining > 0 {
            let length = Int(min(remaining, UInt64(Self.chunkSize)))
            let next = stream.enqueue([length == Self.chunkSize ? chunk : chunk.getSlice(at: 0, length: length)!])
            remaining -= UInt64(length)
            if let previous {
                try await stream.wait(for: previous)
            }
            previous = next
        }
        if let previous {
            try await stream.wait(for: previous)
        }
    }
}

extension LibP2PHost {
    /// Runs `/perf/1.0.0` with a connected `peer`: uploads `uploadBytes`, asks for `downloadBytes` back.
    ///
    /// - Throws: ``P2PHostError`` when the peer does not speak perf or sends the wrong number of bytes.
    public func perf(to peer: PeerID, uploadBytes: UInt64, downloadBytes: UInt64) async throws -> PerfResult {
        let stream = try await self.newStream(to: peer, protocols: [Perf.protocolID])
        do {
            let result = try await Perf.run(
                on: stream,
                uploadBytes: uploadBytes,
                downloadBytes: downloadBytes,
                clock: ContinuousClock()
            )
            await stream.close()
            return result
        } catch {
            await stream.close()
            throw error
        }
    }
}

/// Runs complete in-memory Noise XX handshakes (both roles, one thread) for benchmarks.
///
/// The benchmark package cannot reach the `package` Noise machines, so this drives them here: each pair draws fresh
/// ephemeral keys, exchanges the three messages and checks that both sides derived each other's peer ID.
public enum NoiseHandshakeBenchmark {
    /// Completes `pairs` initiator+responder handshakes between two fixed identities; returns the pairs completed.
    ///
    /// - Throws: ``P2PHostError/Code/upgradeFailed`` if a handshake does not complete as expected.
    public static func run(pairs: Int, initiator: PrivateKey, responder: PrivateKey) throws -> Int {
        let initiatorConfiguration = try NoiseConfiguration(localIdentity: initiator)
        let responderConfiguration = try NoiseConfiguration(localIdentity: responder)
        let responderPeer = PeerID(publicKey: responder.publicKey)
        var completed = 0
        for _ in 0..<pairs {
            var dialer = NoiseHandshakeStateMachine(
                role: .initiator,
                configuration: initiatorConfiguration,
                ephemeralKey: Curve25519.KeyAgreement.PrivateKey(),
                expectedRemotePeer: responderPeer
            )
            var listener = NoiseHandshakeStateMachine(
                role: .responder,
                configuration: responderConfiguration,
                ephemeralKey: Curve25519.KeyAgreement.PrivateKey(),
                expectedRemotePeer: nil
            )
            _ = listener.start()
            guard case .sendMessage(let first) = dialer.start(),
                case .sendMessage(let second) = listener.messageReceived(first),
                case .sendMessageAndComplete(let third, let dialerResult, _) = dialer.messageReceived(second),
                case .complete(let listenerResult, _) = listener.messageReceived(third),
                dialerResult.remotePeerID == responderPeer,
                listenerResult.remotePeerID == PeerID(publicKey: initiator.publicKey)
            else {
                throw P2PHostError(.upgradeFailed, "in-memory Noise handshake \(completed + 1) did not complete")
            }
            completed += 1
        }
        return completed
    }
}
