import Foundation
import NIOCore
public import P2PCore
public import P2PHost
public import PrivacyCore

/// The catch-up sync stream protocol `/phantom-trail/sync/1.0.0` (issue 5: a joining node asks 1–3 peers for
/// the reports of the current and the previous epoch). The client writes one ``SyncRequest`` and closes its side;
/// the server answers one ``SyncResponse`` and closes. Both sides read with a size limit and a timeout, and the
/// client validates every returned envelope like a gossip message.
public enum SyncProtocol {
    /// How long either side may take to deliver its message.
    public static let defaultTimeout: Duration = .seconds(15)
    /// How many peers a joining node asks.
    public static let defaultPeersAsked = 3

    /// Answers one sync request on `stream` with the envelopes `lookup` returns (at most the request's maximum).
    /// - Returns: the number of envelopes sent.
    /// - Throws: ``PrivacyNetworkError``: ``PrivacyNetworkError/Code/malformedMessage`` or
    ///   ``PrivacyNetworkError/Code/messageTooLarge`` for a bad request (penalise the peer),
    ///   ``PrivacyNetworkError/Code/timedOut`` or ``PrivacyNetworkError/Code/streamFailed``.
    @discardableResult
    public static func serve(
        on stream: P2PStream,
        timeout: Duration = Self.defaultTimeout,
        clock: any Clock<Duration> = ContinuousClock(),
        lookup: @escaping @Sendable (SyncRequest) async -> [ReportEnvelope]
    ) async throws(PrivacyNetworkError) -> Int {
        do {
            let request = try await withStreamDeadline(timeout, clock: clock, what: "sync request") {
                let bytes = try await Self.read(
                    from: stream,
                    limit: SyncRequest.maximumEncodedSize,
                    what: "sync request"
                )
                return try SyncRequest(decoding: bytes)
            }
            let envelopes = Array(await lookup(request).prefix(request.maximumEnvelopes))
            let response = SyncResponse(envelopes: envelopes).encode()
            try await withStreamDeadline(timeout, clock: clock, what: "sync response") {
                var buffer = stream.allocator.buffer(capacity: response.count)
                buffer.writeBytes(response)
                try await stream.write(buffer)
                try await stream.closeWrite()
            }
            await stream.close()
            return envelopes.count
        } catch {
            await stream.close()
            throw Self.wrap(error, "sync with \(stream.remotePeer) failed")
        }
    }

    /// A stream handler for ``LibP2PHost/setHandler(protocol:handler:)`` that serves from `lookup` and reports a
    /// peer whose request was bad to `onError`.
    public static func handler(
        timeout: Duration = Self.defaultTimeout,
        lookup: @escaping @Sendable (SyncRequest) async -> [ReportEnvelope],
        onError: @escaping @Sendable (PeerID, PrivacyNetworkError) async -> Void = { _, _ in }
    ) -> LibP2PHost.StreamHandler {
        { stream in
            do {
                try await Self.serve(on: stream, timeout: timeout, lookup: lookup)
            } catch let error as PrivacyNetworkError {
                await onError(stream.remotePeer, error)
            } catch {
                await onError(
                    stream.remotePeer,
                    PrivacyNetworkError(.streamFailed, "sync with \(stream.remotePeer) failed", underlying: error)
                )
            }
        }
    }

    /// How many envelopes a fetch verifies before it hands them on (see `deliver`).
    public static let defaultBatchSize = 64

    /// Asks `peer` for reports and validates every envelope it returns with `validator` (use one dedicated to
    /// sync, or the gossip one). Envelopes of epochs that were not asked for are rejected as wrong epoch.
    ///
    /// Verification (one scrypt call per new envelope) runs on the calling task and its children, `batchSize`
    /// envelopes at a time spread over the machine's cores; after each batch its valid reports go to `deliver`, so a
    /// caller can show statistics before a large response is fully verified. The result lists them all again.
    /// - Throws: ``PrivacyNetworkError``: ``PrivacyNetworkError/Code/malformedMessage`` or
    ///   ``PrivacyNetworkError/Code/messageTooLarge`` when the response is not a valid frame (penalise the peer),
    ///   ``PrivacyNetworkError/Code/timedOut``, ``PrivacyNetworkError/Code/streamFailed``.
    public static func fetchReports(
        from peer: PeerID,
        on host: LibP2PHost,
        request: SyncRequest,
        validator: SharedReportValidator,
        currentEpoch: UInt32,
        timeout: Duration = Self.defaultTimeout,
        clock: any Clock<Duration> = ContinuousClock(),
        batchSize: Int = Self.defaultBatchSize,
        deliver: (@Sendable ([VerifiedReport]) async -> Void)? = nil
    ) async throws(PrivacyNetworkError) -> SyncFetchResult {
        let stream: P2PStream
        do {
            stream = try await host.newStream(to: peer, protocols: [PrivacyNetworkProtocol.sync])
        } catch {
            throw PrivacyNetworkError(.streamFailed, "cannot open a sync stream to \(peer)", underlying: error)
        }
        let response: SyncResponse
        do {
            response = try await withStreamDeadline(timeout, clock: clock, what: "sync with \(peer)") {
                var buffer = stream.allocator.buffer(capacity: SyncRequest.maximumEncodedSize)
                buffer.writeBytes(request.encode())
                try await stream.write(buffer)
                try await stream.closeWrite()
                let bytes = try await Self.read(
                    from: stream,
                    limit: SyncResponse.maximumEncodedSize,
                    what: "sync response"
                )
                return try SyncResponse(decoding: bytes)
            }
            await stream.close()
        } catch {
            await stream.close()
            throw Self.wrap(error, "sync with \(peer) failed")
        }
        guard response.envelopes.count <= request.maximumEnvelopes else {
            throw PrivacyNetworkError(
                .messageTooLarge,
                "sync response from \(peer) has \(response.envelopes.count) envelopes, \(request.maximumEnvelopes) asked"
            )
        }
        var result = SyncFetchResult()
        var start = response.envelopes.startIndex
        while start < response.envelopes.endIndex {
            let end = min(start + max(1, batchSize), response.envelopes.endIndex)
            let verdicts = await Self.validate(Array(response.envelopes[start..<end]), validator, currentEpoch)
            start = end
            var batch: [VerifiedReport] = []
            for verdict in verdicts {
                switch verdict {
                case .accept(let envelope, let id) where request.epochs.contains(envelope.epoch):
                    batch.append(VerifiedReport(envelope: envelope, id: id))
                case .accept(let envelope, _):
                    result.rejections.append(.wrongEpoch(epoch: envelope.epoch, current: currentEpoch))
                case .ignore:
                    result.duplicates += 1
                case .reject(let reason):
                    result.rejections.append(reason)
                }
            }
            result.accepted += batch
            if let deliver, !batch.isEmpty {
                await deliver(batch)
            }
        }
        return result
    }

    /// Validates `envelopes` in parallel over the machine's cores (scrypt is the cost), keeping their order.
    private static func validate(
        _ envelopes: [[UInt8]],
        _ validator: SharedReportValidator,
        _ currentEpoch: UInt32
    ) async -> [ReportVerdict] {
        let width = max(1, min(ProcessInfo.processInfo.activeProcessorCount, envelopes.count))
        guard width > 1 else {
            return envelopes.map { validator.validate($0, currentEpoch: currentEpoch) }
        }
        return await withTaskGroup(of: [(Int, ReportVerdict)].self) { group in
            for lane in 0..<width {
                group.addTask {
                    var verdicts: [(Int, ReportVerdict)] = []
                    for index in stride(from: lane, to: envelopes.count, by: width) {
                        verdicts.append((index, validator.validate(envelopes[index], currentEpoch: currentEpoch)))
                        // One scrypt call holds a thread of the shared pool: let the node's other tasks (admission,
                        // events, GossipSub) run between them.
                        await Task.yield()
                    }
                    return verdicts
                }
            }
            var verdicts = [ReportVerdict?](repeating: nil, count: envelopes.count)
            for await lane in group {
                for (index, verdict) in lane { verdicts[index] = verdict }
            }
            return verdicts.compactMap { $0 }
        }
    }

    /// The join-time catch-up: asks up to `peersAsked` (1–3) of `peers` at once with ``fetchReports(from:on:request:validator:currentEpoch:timeout:clock:)``
    /// and returns each peer's outcome (a `Result`, so the caller can penalise a peer whose answer was garbage). One
    /// shared validator deduplicates across peers: a report that two peers return is accepted once.
    public static func catchUp(
        from peers: [PeerID],
        peersAsked: Int = Self.defaultPeersAsked,
        on host: LibP2PHost,
        validator: SharedReportValidator,
        currentEpoch: UInt32,
        timeout: Duration = Self.defaultTimeout
    ) async -> [PeerID: Result<SyncFetchResult, PrivacyNetworkError>] {
        let asked = Array(peers.prefix(min(max(1, peersAsked), 3)))
        let request = SyncRequest.catchUp(currentEpoch: currentEpoch)
        return await withTaskGroup(of: (PeerID, Result<SyncFetchResult, PrivacyNetworkError>).self) { group in
            for peer in asked {
                group.addTask {
                    do {
                        let result = try await Self.fetchReports(
                            from: peer,
                            on: host,
                            request: request,
                            validator: validator,
                            currentEpoch: currentEpoch,
                            timeout: timeout
                        )
                        return (peer, .success(result))
                    } catch let error as PrivacyNetworkError {
                        return (peer, .failure(error))
                    } catch {
                        return (peer, .failure(PrivacyNetworkError(.streamFailed, "sync failed", underlying: error)))
                    }
                }
            }
            var outcomes: [PeerID: Result<SyncFetchResult, PrivacyNetworkError>] = [:]
            for await (peer, outcome) in group { outcomes[peer] = outcome }
            return outcomes
        }
    }

    /// Reads until end of stream, failing with ``PrivacyNetworkError/Code/messageTooLarge`` past `limit` bytes.
    private static func read(from stream: P2PStream, limit: Int, what: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while var chunk = try await stream.read() {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw PrivacyNetworkError(.messageTooLarge, "\(what) exceeds \(limit) bytes")
            }
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }

    private static func wrap(_ error: any Error, _ message: String) -> PrivacyNetworkError {
        if let error = error as? PrivacyNetworkError { return error }
        return PrivacyNetworkError(.streamFailed, message, underlying: error)
    }
}

/// What one sync fetch brought.
public struct SyncFetchResult: Hashable, Sendable {
    /// One accepted report.
    public typealias Report = VerifiedReport

    /// The new valid reports, to add to the ``ReportPool``.
    public var accepted: [Report] = []
    /// Valid reports this node already had.
    public var duplicates = 0
    /// The invalid envelopes' reasons: any at all means the peer sent garbage.
    public var rejections: [ReportRejection] = []

    /// Whether the peer sent at least one invalid envelope (penalise it).
    public var isPeerMisbehaving: Bool { !self.rejections.isEmpty }
}
