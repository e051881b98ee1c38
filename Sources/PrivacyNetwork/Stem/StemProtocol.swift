import NIOCore
public import P2PCore
public import P2PHost
public import PrivacyCore

/// The stem relay stream protocol `/phantom-trail/stem/1.0.0`: the opener writes exactly one 512-byte report
/// envelope and closes its side; nothing else is sent in either direction. The receiver reads at most 513 bytes
/// within a timeout and validates the envelope (``SharedReportValidator``) before anything is relayed.
///
/// The routing decisions belong to ``StemRelayStateMachine``; this type only moves bytes.
public enum StemProtocol {
    /// How long a peer may take to deliver its 512 bytes.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Sends `envelope` to `peer` on a new stem stream.
    /// - Throws: ``PrivacyNetworkError`` with code ``PrivacyNetworkError/Code/streamFailed`` if the stream cannot
    ///   be opened or written (not connected, protocol unsupported, closed).
    public static func send(_ envelope: ReportEnvelope, to peer: PeerID, on host: LibP2PHost) async throws {
        try await self.send(bytes: envelope.encode(), to: peer, on: host)
    }

    /// Sends raw bytes as a stem message (tests use it to send malformed ones).
    static func send(bytes: [UInt8], to peer: PeerID, on host: LibP2PHost) async throws {
        let stream: P2PStream
        do {
            stream = try await host.newStream(to: peer, protocols: [PrivacyNetworkProtocol.stem])
        } catch {
            throw PrivacyNetworkError(.streamFailed, "cannot open a stem stream to \(peer)", underlying: error)
        }
        do {
            var buffer = stream.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            try await stream.write(buffer)
            try await stream.closeWrite()
            // Wait for the receiver to close, so the bytes are delivered before the caller moves on.
            _ = try? await stream.readToEnd(maxBytes: 0)
            await stream.close()
        } catch {
            await stream.close()
            throw PrivacyNetworkError(.streamFailed, "cannot send a stem message to \(peer)", underlying: error)
        }
    }

    /// Reads one stem message from `stream` and validates it. Never throws: every failure is the sender's and is
    /// returned as ``StemInbound/rejected(_:from:)`` so the caller can penalise it. Closes the stream.
    public static func receive(
        on stream: P2PStream,
        validator: SharedReportValidator,
        currentEpoch: UInt32,
        timeout: Duration = Self.defaultTimeout,
        clock: any Clock<Duration> = ContinuousClock()
    ) async -> StemInbound {
        let peer = stream.remotePeer
        let bytes: [UInt8]
        do {
            bytes = try await withStreamDeadline(timeout, clock: clock, what: "stem message from \(peer)") {
                try await Self.readMessage(from: stream)
            }
        } catch let error as PrivacyNetworkError {
            await stream.close()
            return .rejected(.stream(error), from: peer)
        } catch {
            await stream.close()
            return .rejected(
                .stream(PrivacyNetworkError(.streamFailed, "stem stream from \(peer) failed", underlying: error)),
                from: peer
            )
        }
        await stream.close()
        switch validator.validate(bytes, currentEpoch: currentEpoch) {
        case .accept(let envelope, let id): return .accepted(envelope, id: id, from: peer)
        case .ignore(let id): return .duplicate(id, from: peer)
        case .reject(let reason): return .rejected(.report(reason), from: peer)
        }
    }

    /// A stream handler for ``LibP2PHost/setHandler(protocol:handler:)``: receives each stem message and passes
    /// the outcome to `onInbound`.
    public static func handler(
        validator: SharedReportValidator,
        currentEpoch: @escaping @Sendable () -> UInt32,
        timeout: Duration = Self.defaultTimeout,
        clock: any Clock<Duration> = ContinuousClock(),
        onInbound: @escaping @Sendable (StemInbound) async -> Void
    ) -> LibP2PHost.StreamHandler {
        { stream in
            let inbound = await Self.receive(
                on: stream,
                validator: validator,
                currentEpoch: currentEpoch(),
                timeout: timeout,
                clock: clock
            )
            await onInbound(inbound)
        }
    }

    /// Reads up to end of stream, at most one byte past an envelope: a longer message is cut off and reported by
    /// its size so far.
    private static func readMessage(from stream: P2PStream) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ReportEnvelope.size)
        while bytes.count <= ReportEnvelope.size, var chunk = try await stream.read() {
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }
}

/// The outcome of one inbound stem stream.
public enum StemInbound: Hashable, Sendable {
    /// A valid new report from `peer`: feed it to ``StemRelayStateMachine/stemReceived(_:id:from:now:using:)``.
    case accepted(ReportEnvelope, id: ReportID, from: PeerID)
    /// A valid report this node already had on the stem: drop it silently.
    case duplicate(ReportID, from: PeerID)
    /// The peer sent something invalid: drop it and penalise the peer.
    case rejected(StemRejection, from: PeerID)
}

/// Why a stem message was refused.
public enum StemRejection: Hashable, Sendable, CustomStringConvertible {
    /// The bytes arrived but are not an admissible report (wrong size, malformed, work, epoch…).
    case report(ReportRejection)
    /// The stream failed: too slow (``PrivacyNetworkError/Code/timedOut``) or broken.
    case stream(PrivacyNetworkError)

    public var description: String {
        switch self {
        case .report(let reason): "stem: \(reason)"
        case .stream(let error): "stem: \(error)"
        }
    }
}
