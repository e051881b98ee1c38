import Logging
import NIOCore
import P2PCore
import P2PNoise
import P2PYamux

/// A connection after the upgrade: authenticated peer, Yamux session and the peer's negotiated streams.
struct UpgradedConnection: Sendable {
    /// The authenticated remote peer.
    var remotePeer: PeerID
    /// The Yamux session of the connection.
    var session: YamuxSession
    /// The TCP channel.
    var channel: any Channel
    /// Counts the connection's open streams.
    var streams: StreamTracker
}

/// The connection upgrade of https://github.com/libp2p/specs/blob/master/connections/README.md on a fresh channel:
/// multistream-select `/noise` → Noise XX → multistream-select `/yamux/1.0.0` → Yamux, where the muxer step is
/// inlined in the Noise handshake when both sides list muxers in their payloads (``inlinedMuxer(local:remote:direction:)``).
///
/// Every step's handlers are added in the callbacks of the previous step, which run on the event loop before
/// pipelined bytes move on. The whole upgrade must finish within ``timeout``, otherwise the channel closes.
struct ConnectionUpgrader: Sendable {
    /// The security protocol ID.
    static let noiseProtocolID = "/noise"
    /// The muxer protocol ID.
    static let yamuxProtocolID = "/yamux/1.0.0"

    var noise: NoiseConfiguration
    var yamux: YamuxConfiguration
    var timeout: TimeAmount
    var streamNegotiation: MultistreamSelectConfiguration
    /// The protocols inbound streams may negotiate, read when each stream opens.
    var supportedProtocols: @Sendable () -> [String]
    /// Receives every connection's inbound streams once multistream-select chose one of our protocols (on the
    /// connection's event loop); a stream it refuses (`false`) is closed.
    var inboundStreams: @Sendable (P2PStream) -> Bool
    /// Our encoded identify message for a peer, when identify is answered on the event loop (`nil`: an identify
    /// stream goes to ``inboundStreams`` like any other).
    var identifyReply: @Sendable (PeerID) -> [UInt8]? = { _ in nil }
    var logger: Logger

    /// Upgrades `channel`; call once, right after it became active (or from its initializer).
    func upgrade(
        channel: any Channel,
        direction: ConnectionDirection,
        expectedPeer: PeerID?
    ) -> EventLoopFuture<UpgradedConnection> {
        if channel.eventLoop.inEventLoop {
            return self.upgradeOnLoop(channel: channel, direction: direction, expectedPeer: expectedPeer)
        }
        return channel.eventLoop.flatSubmit {
            self.upgradeOnLoop(channel: channel, direction: direction, expectedPeer: expectedPeer)
        }
    }

    private func upgradeOnLoop(
        channel: any Channel,
        direction: ConnectionDirection,
        expectedPeer: PeerID?
    ) -> EventLoopFuture<UpgradedConnection> {
        let outcome = UpgradeOutcome(promise: channel.eventLoop.makePromise(of: UpgradedConnection.self))
        let timeout = self.timeout
        let timeoutTask = channel.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            outcome.fail(P2PHostError(.timedOut, "connection upgrade did not finish within \(timeout)"))
            channel.close(promise: nil)
        }
        outcome.promise.futureResult.whenComplete { _ in timeoutTask.cancel() }

        do {
            // The dialer proposes /noise optimistically: Noise's first message follows the proposal in one write,
            // saving a round trip; a listener without /noise fails the upgrade when its "na" arrives.
            let role: MultistreamSelectRole =
                direction == .outbound
                ? .dialer(proposing: [Self.noiseProtocolID]) : .listener(supporting: [Self.noiseProtocolID])
            let negotiator = MultistreamSelectHandler(
                role: role,
                configuration: MultistreamSelectConfiguration(timeout: nil, optimisticDialer: direction == .outbound),
                eventLoop: channel.eventLoop,
                logger: self.logger
            )
            negotiator.optimisticConfirmation?.assumeIsolated().whenFailure { error in
                outcome.fail(Self.wrap(error, step: "security negotiation (multistream-select /noise)"))
                channel.close(promise: nil)
            }
            negotiator.negotiatedProtocol.assumeIsolated().whenComplete { result in
                switch result {
                case .success:
                    self.securityNegotiated(
                        channel: channel,
                        direction: direction,
                        expectedPeer: expectedPeer,
                        outcome: outcome
                    )
                case .failure(let error):
                    outcome.fail(Self.wrap(error, step: "security negotiation (multistream-select /noise)"))
                    channel.close(promise: nil)
                }
            }
            do {
                try channel.pipeline.syncOperations.addHandler(negotiator)
            } catch {
                negotiator.abandon(because: error)
                throw error
            }
        } catch {
            outcome.fail(Self.wrap(error, step: "pipeline setup"))
            channel.close(promise: nil)
        }
        return outcome.promise.futureResult
    }

    private func securityNegotiated(
        channel: any Channel,
        direction: ConnectionDirection,
        expectedPeer: PeerID?,
        outcome: UpgradeOutcome
    ) {
        do {
            let handshake = try channel.pipeline.syncOperations.configureNoise(
                role: direction == .outbound ? .initiator : .responder,
                configuration: self.noise,
                expectedRemotePeer: expectedPeer,
                logger: self.logger
            )
            // The muxer step is set up when the handshake completes (inside Noise's read of the last handshake
            // message, before any transport bytes after it move on): inlined in the handshake when both sides listed
            // muxers, else a multistream-select round, whose proposal leaves with the initiator's last handshake
            // message (Noise flushes at the end of that read).
            handshake.assumeIsolated().whenComplete { result in
                switch result {
                case .success(let handshakeResult):
                    self.securityEstablished(
                        channel: channel,
                        direction: direction,
                        handshake: handshakeResult,
                        outcome: outcome
                    )
                case .failure(let error):
                    outcome.fail(Self.wrap(error, step: "Noise handshake"))
                    channel.close(promise: nil)
                }
            }
        } catch {
            outcome.fail(Self.wrap(error, step: "Noise setup"))
            channel.close(promise: nil)
        }
    }

    /// The muxer the handshake chose: the first of the initiator's `stream_muxers` that the responder listed too
    /// (https://github.com/libp2p/specs/blob/master/connections/inlined-muxer-negotiation.md); `nil` when either side
    /// listed none or they have none in common, so that multistream-select chooses (as go-libp2p does; the spec would
    /// fail the handshake on no overlap, but the multistream-select round then fails on its own if there is none).
    static func inlinedMuxer(local: [String], remote: [String], direction: ConnectionDirection) -> String? {
        let (initiator, responder) = direction == .outbound ? (local, remote) : (remote, local)
        return initiator.first(where: responder.contains)
    }

    private func securityEstablished(
        channel: any Channel,
        direction: ConnectionDirection,
        handshake: NoiseHandshakeResult,
        outcome: UpgradeOutcome
    ) {
        let peer = handshake.remotePeerID
        do {
            let inlined = Self.inlinedMuxer(
                local: self.noise.extensions?.streamMuxers ?? [],
                remote: handshake.remoteExtensions?.streamMuxers ?? [],
                direction: direction
            )
            if inlined == Self.yamuxProtocolID {
                self.muxerNegotiated(channel: channel, direction: direction, peer: peer, outcome: outcome)
                return
            }
            let role: MultistreamSelectRole =
                direction == .outbound
                ? .dialer(proposing: [Self.yamuxProtocolID]) : .listener(supporting: [Self.yamuxProtocolID])
            let muxer = try channel.pipeline.syncOperations.addMultistreamSelect(
                role: role,
                configuration: MultistreamSelectConfiguration(timeout: nil),
                logger: self.logger
            )
            muxer.assumeIsolated().whenComplete { result in
                switch result {
                case .success:
                    self.muxerNegotiated(channel: channel, direction: direction, peer: peer, outcome: outcome)
                case .failure(let error):
                    outcome.fail(Self.wrap(error, step: "muxer negotiation (multistream-select /yamux/1.0.0)"))
                    channel.close(promise: nil)
                }
            }
        } catch {
            outcome.fail(Self.wrap(error, step: "muxer negotiation"))
            channel.close(promise: nil)
        }
    }

    private func muxerNegotiated(
        channel: any Channel,
        direction: ConnectionDirection,
        peer: PeerID,
        outcome: UpgradeOutcome
    ) {
        let tracker = StreamTracker()
        var yamux = self.yamux
        let supportedProtocols = self.supportedProtocols
        let negotiation = self.streamNegotiation
        let logger = self.logger
        let deliver = self.inboundStreams
        let identifyReply = self.identifyReply
        yamux.inboundStreamInitializer = { stream in
            stream.eventLoop.makeCompletedFuture {
                let negotiated = try stream.pipeline.syncOperations.addMultistreamSelect(
                    role: .listener(supporting: supportedProtocols()),
                    configuration: negotiation,
                    logger: logger
                )
                negotiated.assumeIsolated().whenSuccess { protocolID in
                    if protocolID == Identify.protocolID, let reply = identifyReply(peer) {
                        Self.answerIdentify(on: stream, with: reply, tracker: tracker)
                        return
                    }
                    do {
                        let p2pStream = try Self.attachStream(
                            to: stream,
                            protocolID: protocolID,
                            remotePeer: peer,
                            tracker: tracker,
                            logger: logger
                        )
                        if !deliver(p2pStream) {
                            stream.close(promise: nil)
                        }
                    } catch {
                        stream.close(promise: nil)
                    }
                }
            }
        }
        do {
            let session = try channel.pipeline.syncOperations.configureYamux(
                role: direction == .outbound ? .client : .server,
                configuration: yamux,
                logger: self.logger
            )
            outcome.succeed(
                UpgradedConnection(
                    remotePeer: peer,
                    session: session,
                    channel: channel,
                    streams: tracker
                )
            )
        } catch {
            outcome.fail(Self.wrap(error, step: "Yamux setup"))
            channel.close(promise: nil)
        }
    }

    /// Opens a stream on `session` and negotiates one of `protocols` as the dialer (header and first proposal in
    /// one write).
    static func openStream(
        on session: YamuxSession,
        protocols: [String],
        remotePeer: PeerID,
        tracker: StreamTracker,
        negotiation: MultistreamSelectConfiguration,
        logger: Logger
    ) -> EventLoopFuture<P2PStream> {
        Self.openStream(on: session, protocols: protocols, negotiation: negotiation, logger: logger) {
            channel,
            protocolID in
            channel.eventLoop.makeCompletedFuture {
                try Self.attachStream(
                    to: channel,
                    protocolID: protocolID,
                    remotePeer: remotePeer,
                    tracker: tracker,
                    logger: logger
                )
            }
        }
    }

    /// Asks the peer for identify on a new stream, all on the connection's event loop (``IdentifyReplyCollector``).
    static func requestIdentify(
        on session: YamuxSession,
        remotePeer: PeerID,
        tracker: StreamTracker,
        negotiation: MultistreamSelectConfiguration,
        logger: Logger
    ) -> EventLoopFuture<IdentifyMessage> {
        Self.openStream(on: session, protocols: [Identify.protocolID], negotiation: negotiation, logger: logger) {
            channel,
            _ in
            let promise = channel.eventLoop.makePromise(of: IdentifyMessage.self)
            do {
                try channel.pipeline.syncOperations.addHandler(
                    IdentifyReplyCollector(remotePeer: remotePeer, promise: promise)
                )
                tracker.track(channel)
            } catch {
                promise.fail(error)
                channel.close(promise: nil)
            }
            return promise.futureResult
        }
    }

    /// Opens a stream, negotiates one of `protocols` as the dialer, and hands the stream to `attach` on its event
    /// loop, before bytes that followed the negotiation move on.
    private static func openStream<Result: Sendable>(
        on session: YamuxSession,
        protocols: [String],
        negotiation: MultistreamSelectConfiguration,
        logger: Logger,
        attach: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Result>
    ) -> EventLoopFuture<Result> {
        session.openStream { channel -> EventLoopFuture<EventLoopFuture<Result>> in
            channel.eventLoop.makeCompletedFuture {
                let negotiated = try channel.pipeline.syncOperations.addMultistreamSelect(
                    role: .dialer(proposing: protocols),
                    configuration: negotiation,
                    logger: logger
                )
                return negotiated.flatMap { protocolID in attach(channel, protocolID) }
            }
        }.flatMap { $0 }
    }

    /// Answers an identify request on the stream's event loop: writes `reply` (length-prefixed), closes our side,
    /// then the stream.
    private static func answerIdentify(on channel: any Channel, with reply: [UInt8], tracker: StreamTracker) {
        tracker.track(channel)
        channel.writeAndFlush(Identify.framed(reply, allocator: channel.allocator), promise: nil)
        channel.close(mode: .output, promise: nil)
        channel.close(promise: nil)
    }

    /// Adds the ``P2PStreamHandler`` to a negotiated stream (on its event loop) and wraps it.
    private static func attachStream(
        to channel: any Channel,
        protocolID: String,
        remotePeer: PeerID,
        tracker: StreamTracker,
        logger: Logger
    ) throws -> P2PStream {
        let streamID = (try? channel.syncOptions?.getOption(YamuxStreamChannelOptions.streamID)).map { "\($0)" }
        logger.trace(
            "stream negotiated",
            metadata: [
                "p2p.peer": "\(remotePeer)", "p2p.stream": "\(streamID ?? "?")", "p2p.protocol": "\(protocolID)",
            ]
        )
        try channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        let handler = P2PStreamHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        tracker.track(channel)
        return P2PStream(protocolID: protocolID, remotePeer: remotePeer, channel: channel, handler: handler)
    }

    private static func wrap(_ error: any Error, step: String) -> P2PHostError {
        if let error = error as? P2PHostError {
            return error
        }
        return P2PHostError(.upgradeFailed, "\(step) failed", underlying: error)
    }
}

/// Completes the upgrade promise once; later outcomes (a close after a failure) are ignored. Event-loop confined.
private final class UpgradeOutcome {
    let promise: EventLoopPromise<UpgradedConnection>
    private var done = false

    init(promise: EventLoopPromise<UpgradedConnection>) {
        self.promise = promise
    }

    func succeed(_ connection: UpgradedConnection) {
        guard !self.done else { return }
        self.done = true
        self.promise.succeed(connection)
    }

    func fail(_ error: P2PHostError) {
        guard !self.done else { return }
        self.done = true
        self.promise.fail(error)
    }
}
