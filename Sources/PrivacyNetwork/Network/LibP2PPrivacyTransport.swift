import Foundation
public import Logging
public import P2PCore
import P2PGossipSub
import P2PHost
public import PrivacyCore
import Synchronization

/// The production ``PrivacyNetworkTransport``: a ``LibP2PHost`` (TCP, Noise, Yamux, identify, ping) with
/// the community protocols on it. Created only after consent to join; nothing listens before
/// ``start(_:)``.
///
/// Reports leave the author on the Dandelion++ stem (privacy-design.md, "Who sees the author"): a
/// ``StemRelayStateMachine`` picks the relays among the peers we dialled, forwards stem reports along
/// per-edge routes, fluffs them into GossipSub when this node is a diffuser, and holds an embargo timer (on the
/// injected clock) for every report on the stem, cancelled when the report shows up in gossip. A fluff waits
/// until the report topic has a subscribed peer (``ReportTopicPeers``): GossipSub would drop it otherwise.
///
/// Bad input (issue 5): every invalid gossip message (validator reject, or a StrictNoSign breach), stem message
/// (wrong size, malformed, too little work, wrong epoch, too slow) and sync request or response (garbage, too
/// large, wrong epoch) is dropped, logged at debug with its reason, and counted against the sending peer in a
/// ``PeerPenalties`` score; a peer that reaches the threshold is disconnected and refused for a while. GossipSub's
/// own score penalises invalid deliveries too (P₄ on the report topic). Nothing already admitted is touched.
public final class LibP2PPrivacyTransport: PrivacyNetworkTransport {
    /// What the transport needs besides the identity.
    public struct Options: Sendable {
        /// Addresses to listen on.
        public var listenAddresses: [Multiaddr]
        /// The host's connection limit (the user's `maxConnections`).
        public var maxConnections: Int
        /// Whether to look for peers on the local network with mDNS.
        public var mdns: Bool
        /// The network's parameters.
        public var parameters: NetworkParameters
        /// The mDNS UDP port: 5353 everywhere but in tests that want a group of their own.
        public var mdnsPort: Int
        /// Proof-of-work verdicts to share with other transports in this process (the demo's nodes); nil: this
        /// transport's stem, gossip and sync validators share a cache of their own.
        public var workVerdicts: WorkVerdictCache?

        /// Options.
        public init(
            listenAddresses: [Multiaddr],
            maxConnections: Int,
            mdns: Bool,
            parameters: NetworkParameters,
            mdnsPort: Int = 5353,
            workVerdicts: WorkVerdictCache? = nil
        ) {
            self.listenAddresses = listenAddresses
            self.maxConnections = maxConnections
            self.mdns = mdns
            self.parameters = parameters
            self.mdnsPort = mdnsPort
            self.workVerdicts = workVerdicts
        }
    }

    private struct State {
        var callbacks: PrivacyTransportCallbacks?
        var events: AsyncStream<PrivacyTransportEvent>.Continuation?
        var penalties = PeerPenalties<PeerID>()
        /// Blocked peers whose connection was refused (their events are not passed on).
        var refused: Set<PeerID> = []
        var stem: StemRelayDriver?
        var tasks: [Task<Void, Never>] = []
        var mdns: MDNSDiscovery?
        var roundTrips: [PeerID: Duration] = [:]
        /// Fluffs not published because gossip had brought the report already (for example our own report whose
        /// stem hop timed out after the relay had fluffed it).
        var fluffsAlreadyInGossip = 0
    }

    /// Our peer ID for this session.
    public let localPeerID: PeerID
    private let host: LibP2PHost
    private let gossip: GossipSubService
    private let stemValidator: SharedReportValidator
    /// Verifies gossip messages' work on GossipSub's validation tasks, off the network's actor.
    private let gossipValidator: SharedReportValidator
    /// Shared by every catch-up fetch, so that a report several peers return has its work verified once.
    private let syncValidator: SharedReportValidator
    private let topicPeers = ReportTopicPeers()
    private let stemConfiguration: StemRelayConfiguration
    private let clock: any Clock<Duration>
    private let stemClock: StemClock
    private let rng: any RandomNumberGenerator & Sendable
    private let options: Options
    private let logger: Logger
    private let state = Mutex(State())

    /// A transport for `identity` (fresh per session unless the user configured a key file).
    /// - Parameters:
    ///   - stem: the Dandelion++ stem relay's parameters (default: q = 0.1, 2 relays, and the embargo and stem
    ///     epoch scaled to the network's epoch length, ``StemRelayConfiguration/scaled(toEpochLengthSeconds:)``).
    ///   - clock: times the stem embargoes, the stem epochs and the stream timeouts.
    ///   - rng: the stem relay's randomness (relays, routes, diffuser choice, embargo lengths).
    public init(
        identity: PrivateKey,
        options: Options,
        logger: Logger,
        stem: StemRelayConfiguration? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        rng: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) throws {
        self.host = try LibP2PHost(
            identity: identity,
            configuration: HostConfiguration(
                listenAddresses: options.listenAddresses,
                agentVersion: "phantom-trail-community/1",
                maxConnections: max(options.maxConnections * 2, options.maxConnections + 4)
            ),
            logger: logger
        )
        self.localPeerID = self.host.peerID
        var gossipConfiguration = GossipSubServiceConfiguration()
        // privacy-design.md, "Envelope": StrictNoSign, message id = SHA-256 of the data (the policy's default).
        gossipConfiguration.router.topics[PrivacyNetworkProtocol.reportTopic] = GossipSubTopicConfiguration(
            signaturePolicy: .strictNoSign
        )
        gossipConfiguration.router.scoring = Self.gossipScoring
        self.gossip = try GossipSubService(
            host: self.host,
            identity: identity,
            configuration: gossipConfiguration,
            consumesHostEvents: false,
            logger: logger
        )
        // A relay sees a report on the stem and again in gossip: its work is verified once.
        let workVerdicts = options.workVerdicts ?? WorkVerdictCache(parameters: options.parameters)
        self.stemValidator = SharedReportValidator(parameters: options.parameters, workVerdicts: workVerdicts)
        self.gossipValidator = SharedReportValidator(parameters: options.parameters, workVerdicts: workVerdicts)
        self.syncValidator = SharedReportValidator(parameters: options.parameters, workVerdicts: workVerdicts)
        self.stemConfiguration =
            stem ?? StemRelayConfiguration.scaled(toEpochLengthSeconds: options.parameters.schedule.lengthSeconds)
        self.clock = clock
        self.stemClock = StemClock(clock)
        self.rng = rng
        self.options = options
        self.logger = logger
    }

    /// The relays of the current stem epoch (empty before ``start(_:)``).
    public var stemRelays: [PeerID] { self.state.withLock { $0.stem }?.relays ?? [] }

    /// The number of reports this node holds on the stem, their embargo running.
    public var stemHeldCount: Int { self.state.withLock { $0.stem }?.heldCount ?? 0 }

    /// The stem relay's parameters.
    public var stemParameters: StemRelayConfiguration { self.stemConfiguration }

    /// What the stem relay did so far (nil before ``start(_:)``).
    var stemCounters: StemRelayDriver.Counters? { self.state.withLock { $0.stem }?.counters }

    /// How many fluffs were not published because gossip already carried the report (for example our own report
    /// whose stem hop timed out after the relay had fluffed it): expected, and not an error.
    var fluffsAlreadyInGossip: Int { self.state.withLock { $0.fluffsAlreadyInGossip } }

    /// Whether this node is a diffuser in the current stem epoch.
    var isStemDiffuser: Bool { self.state.withLock { $0.stem }?.isDiffuser ?? false }

    /// The report topic's subscribed and mesh peers as GossipSub last reported them.
    var reportTopicSnapshot: ReportTopicPeers.Snapshot { self.topicPeers.snapshot }

    /// Waits (on GossipSub's events, never by polling) until the report topic's peers satisfy `condition`;
    /// `false` if the transport shut down first.
    func waitForReportTopic(_ condition: @escaping @Sendable (ReportTopicPeers.Snapshot) -> Bool) async -> Bool {
        await self.topicPeers.wait(until: condition)
    }

    /// GossipSub peer scoring for the report topic: only what the community protocol can judge counts. Invalid
    /// deliveries (P₄) weigh -10 each, squared, so three recent ones graylist a peer (-80); they decay by 1% a
    /// second. Time in mesh and first deliveries earn a little. Mesh delivery rates (P₃, P₃b) are off (a user
    /// sends two reports a week: silence is normal), and so is IP colocation (P₆: nodes on one machine or behind
    /// one NAT are normal in tests and homes). Peer exchange is accepted from any peer with a score ≥ 0, as it was
    /// without scoring.
    static var gossipScoring: GossipSubScoreParameters {
        var topic = GossipSubTopicScoreParameters()
        topic.timeInMeshWeight = 0.0028
        topic.timeInMeshCap = 3600
        topic.firstMessageDeliveriesWeight = 1
        topic.firstMessageDeliveriesCap = 10
        topic.meshMessageDeliveriesWeight = 0
        topic.meshFailurePenaltyWeight = 0
        topic.invalidMessageDeliveriesWeight = -10
        topic.invalidMessageDeliveriesDecay = 0.99
        var scoring = GossipSubScoreParameters()
        scoring.topics[PrivacyNetworkProtocol.reportTopic] = topic
        scoring.ipColocationFactorWeight = 0
        scoring.thresholds = GossipSubScoreThresholds(
            gossipThreshold: -10,
            publishThreshold: -50,
            graylistThreshold: -80,
            acceptPXThreshold: 0,
            opportunisticGraftThreshold: 0
        )
        return scoring
    }

    /// The misbehaviour score of `peer` now (0 for a peer that never sent anything invalid).
    func penaltyScore(of peer: PeerID) -> Double {
        let now = self.stemClock.now()
        return self.state.withLock { $0.penalties.score(of: peer, now: now) }
    }

    /// Whether `peer` is refused now after repeated invalid messages.
    func isBlocked(_ peer: PeerID) -> Bool {
        let now = self.stemClock.now()
        return self.state.withLock { $0.penalties.isBlocked(peer, now: now) }
    }

    /// The GossipSub score of `peer` (P₄ counts its invalid report deliveries).
    func gossipScore(of peer: PeerID) async -> Double {
        await self.gossip.score(of: peer)
    }

    /// Drops a message from `peer` for `offence`: logs the reason at debug, counts it against the peer, and
    /// disconnects the peer when its score reaches the threshold (it is then refused until the block ends).
    func penalize(_ peer: PeerID, _ offence: PeerPenalties<PeerID>.Offence, path: String) {
        let now = self.stemClock.now()
        let (verdict, events) = self.state.withLock { state in
            (state.penalties.offence(offence, by: peer, now: now), state.events)
        }
        self.logger.debug(
            "rejected a \(path) message",
            metadata: ["p2p.peer": "\(peer)", "reason": "\(offence.name)", "penalty": "\(offence.weight)"]
        )
        switch verdict {
        case .tolerate:
            break
        case .alreadyBlocked:
            self.host.disconnect(from: peer)
        case .disconnect:
            self.logger.debug(
                "disconnecting a misbehaving peer",
                metadata: ["p2p.peer": "\(peer)", "reason": "\(offence.name)"]
            )
            events?.yield(.error("disconnected \(peer) after repeated invalid messages (last: \(offence.name))"))
            self.host.disconnect(from: peer)
        }
    }

    public func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent> {
        let (stream, continuation) = AsyncStream<PrivacyTransportEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(4096)
        )
        self.state.withLock { state in
            state.callbacks = callbacks
            state.events = continuation
        }
        // Catch-up sync server: answers from the network's admitted reports (never our own unseen ones).
        self.host.setHandler(
            protocol: PrivacyNetworkProtocol.sync,
            handler: SyncProtocol.handler(
                lookup: { request in
                    await callbacks.syncResponse(request.epochs, request.maximumEnvelopes).compactMap {
                        try? ReportEnvelope(decoding: $0)
                    }
                },
                onError: { [weak self] peer, error in
                    self?.penalize(peer, .badStream(error.code), path: "sync request")
                }
            )
        )
        let gossip = self.gossip
        let topic = PrivacyNetworkProtocol.reportTopic
        let host = self.host
        let logger = self.logger
        let clock = self.clock
        let stem = StemRelayDriver(
            configuration: self.stemConfiguration,
            clock: self.clock,
            rng: self.rng,
            io: StemRelayDriver.IO(
                sendStem: { envelope, peer in
                    do {
                        // Bounded: a relay that never closes its side must not hold the send forever.
                        try await withStreamDeadline(StemProtocol.defaultTimeout, clock: clock, what: "stem send") {
                            try await StemProtocol.send(envelope, to: peer, on: host)
                        }
                    } catch {
                        logger.debug("stem send failed", metadata: ["p2p.peer": "\(peer)"])
                        throw error
                    }
                },
                fluff: { [weak self, gossipValidator = self.gossipValidator] envelope, isOwn in
                    // Our own report back from gossip already (a stem hop timed out, but the relay got it and
                    // fluffed it): nothing to publish, and nothing went wrong.
                    if isOwn, gossipValidator.hasAccepted(ReportID(envelope)) {
                        self?.state.withLock { $0.fluffsAlreadyInGossip += 1 }
                        logger.trace("stem: own report already in gossip, not published again")
                        return
                    }
                    // A relay's fluff is a report the network has not admitted yet (it came on the stem, whose
                    // handler verified its work).
                    if !isOwn {
                        let report = VerifiedReport(envelope: envelope, id: ReportID(envelope))
                        if await callbacks.admitVerified(report, nil).verdict == .reject { return }
                    }
                    // Queued, then released at once if the topic has a subscribed peer (else when one subscribes).
                    if self?.topicPeers.enqueue(envelope) != nil {
                        logger.debug("stem: fluff queue full, the oldest waiting fluff was dropped")
                    }
                    await self?.refreshReportTopic()
                }
            )
        )
        self.state.withLock { $0.stem = stem }
        let schedule = self.options.parameters.schedule
        let gossipValidator = self.gossipValidator
        gossip.setValidator(topic: topic) { [weak self] message in
            // Someone fluffed it: the stem embargo of this report stops now, before the work check (GossipSub has
            // marked it seen, so our own fluff of it could only be refused as a duplicate). Same id, same bytes: a
            // report we hold is valid, and an invalid one is never held.
            let id = ReportID(data: message.data)
            await stem.seenInGossip(id)
            // The work is verified here, on GossipSub's validation task; the network admits the verified report.
            let result: AdmissionResult
            switch gossipValidator.validate(message.data, currentEpoch: (try? schedule.epoch(containing: Date())) ?? 0)
            {
            case .accept(let envelope, _):
                result = await callbacks.admitVerified(
                    VerifiedReport(envelope: envelope, id: id),
                    message.propagationSource
                )
            case .ignore:
                result = AdmissionResult(verdict: .ignore)
            case .reject(let reason):
                result = AdmissionResult(verdict: .reject, rejection: reason)
            }
            if result.verdict == .reject {
                if result.rejection?.isNearEpochWindow == true {
                    // Late (or early) by one epoch: an honest forwarder's report, dropped without a penalty here
                    // and without GossipSub's P₄.
                    return .ignore
                }
                // GossipSub penalises the forwarder too (P₄).
                self?.penalize(message.propagationSource, .invalidReport(result.rejection), path: "gossip")
            }
            switch result.verdict {
            case .accept: return .accept
            case .reject: return .reject
            case .ignore: return .ignore
            }
        }
        // The stem relay: a valid stem message goes to the Dandelion++ machine, which forwards it on the stem or
        // fluffs it (diffuser, or no relay), and holds it under embargo meanwhile.
        self.host.setHandler(
            protocol: PrivacyNetworkProtocol.stem,
            handler: StemProtocol.handler(
                validator: self.stemValidator,
                currentEpoch: { (try? schedule.epoch(containing: Date())) ?? 0 },
                clock: self.clock,
                onInbound: { [weak self] inbound in
                    switch inbound {
                    case .accepted(let envelope, let id, let from):
                        await stem.stemReceived(envelope, id: id, from: from)
                    case .rejected(.report(let reason), let from):
                        self?.penalize(from, .invalidReport(reason), path: "stem")
                    case .rejected(.stream(let error), let from):
                        self?.penalize(from, .badStream(error.code), path: "stem")
                    case .duplicate:
                        break
                    }
                }
            )
        )
        try await self.host.start()
        let subscription = await gossip.subscribe(topic)
        let hostEvents = self.host.events
        let gossipEvents = gossip.events
        await stem.start()
        // Bridges, awaited by shutdown(): GossipSub runs until cancelled; the subscription is drained (messages
        // were already admitted by the validator); host events are mapped until the host shuts down.
        let running = Task { _ = try? await gossip.run() }
        let draining = Task {
            for await _ in subscription {}
        }
        // The report topic's peers change with subscriptions, grafts and prunes: waiting fluffs go out then.
        let watching = Task { [weak self] in
            for await event in gossipEvents {
                switch event {
                case .peerSubscribed(_, let eventTopic), .peerUnsubscribed(_, let eventTopic),
                    .grafted(_, let eventTopic), .pruned(_, let eventTopic):
                    if eventTopic == topic { await self?.refreshReportTopic() }
                case .messageRejected(let from, let eventTopic, _) where eventTopic == topic:
                    // A StrictNoSign breach (a from, seqno, signature or key): GossipSub dropped it already.
                    self?.penalize(from, .gossipRuleBroken, path: "gossip")
                default:
                    break
                }
            }
        }
        let task = Task { [weak self] in
            for await event in hostEvents {
                // A blocked peer's connection is closed at once, and none of its events is passed on.
                guard self?.refuses(event) != true else { continue }
                await gossip.hostEventReceived(event)
                switch event {
                case .peerConnected(let peer, let direction, _):
                    await stem.peerConnected(peer, isOutbound: direction == .outbound)
                    continuation.yield(.peerConnected(peer, dialedByUs: direction == .outbound))
                case .peerDisconnected(let peer):
                    await stem.peerDisconnected(peer)
                    await self?.refreshReportTopic()
                    continuation.yield(.peerDisconnected(peer))
                case .identified(let peer, _, _, let listenAddresses):
                    let addresses = listenAddresses.map { $0.removingPeerID().appending(.p2p(peer)) }
                    continuation.yield(.addressesLearned(addresses, from: peer))
                case .error(let message, _):
                    continuation.yield(.error(message))
                }
            }
            continuation.finish()
        }
        self.state.withLock { $0.tasks = [task, running, draining, watching] }
        if self.options.mdns {
            await self.startMDNS(continuation)
        }
        return stream
    }

    /// Whether `event` comes from a blocked peer (its new connection is closed then).
    private func refuses(_ event: HostEvent) -> Bool {
        let now = self.stemClock.now()
        switch event {
        case .peerConnected(let peer, _, _):
            let blocked = self.state.withLock { state in
                guard state.penalties.isBlocked(peer, now: now) else { return false }
                state.refused.insert(peer)
                return true
            }
            if blocked {
                self.logger.debug("refusing a blocked peer", metadata: ["p2p.peer": "\(peer)"])
                self.host.disconnect(from: peer)
            }
            return blocked
        case .peerDisconnected(let peer):
            return self.state.withLock { $0.refused.remove(peer) != nil }
        case .identified(let peer, _, _, _):
            return self.state.withLock { $0.refused.contains(peer) }
        case .error:
            return false
        }
    }

    /// Reads the report topic's peers from GossipSub and publishes the fluffs that waited for one. Fluffs of an
    /// epoch peers no longer accept (older than the previous one) are dropped: publishing them would only get
    /// this node penalised.
    private func refreshReportTopic() async {
        let topic = PrivacyNetworkProtocol.reportTopic
        let released = self.topicPeers.update(
            subscribed: Set(await self.gossip.peers(subscribedTo: topic)),
            mesh: Set(await self.gossip.meshPeers(of: topic))
        )
        guard !released.isEmpty else { return }
        let current = (try? self.options.parameters.schedule.epoch(containing: Date())) ?? 0
        for envelope in released where envelope.epoch + 1 >= current {
            do {
                try await self.gossip.publish(topic: topic, data: envelope.encode())
            } catch let error as GossipSubError where error.code == .duplicateMessage {
                // Gossip brought it here first (a relay fluffed it while we waited): it is out, which is the point.
                self.state.withLock { $0.fluffsAlreadyInGossip += 1 }
            } catch {
                // Too large, or the service stopped: nothing to retry.
                self.logger.debug("report fluff not published", metadata: ["p2p.error": "\(error)"])
            }
        }
    }

    /// Starts mDNS for the host (only after consent: the transport exists only then) and passes every peer it
    /// finds to the network's discovery as learned addresses. A failure to open the multicast socket is reported
    /// as an error event; the node keeps working with its other discovery sources.
    private func startMDNS(_ continuation: AsyncStream<PrivacyTransportEvent>.Continuation) async {
        let discovery: MDNSDiscovery
        do {
            discovery = try MDNSDiscovery(
                host: self.host,
                configuration: Self.mdnsConfiguration(
                    listenAddresses: self.options.listenAddresses,
                    port: self.options.mdnsPort
                ),
                logger: self.logger
            )
            try await discovery.start()
        } catch {
            continuation.yield(.error("mDNS discovery is off: \(error)"))
            return
        }
        let forwarding = Task {
            for await peer in discovery.discovered {
                let addresses = Self.dialableAddresses(of: peer)
                if !addresses.isEmpty {
                    continuation.yield(.addressesLearned(addresses, from: nil))
                }
            }
        }
        self.state.withLock { state in
            state.mdns = discovery
            state.tasks.append(forwarding)
        }
    }

    /// mDNS settings for a node listening on `listenAddresses`: when every one is a loopback address (tests, two
    /// terminals on one machine) the group is joined on 127.0.0.1 and loopback addresses are advertised; otherwise
    /// the spec's defaults (the default route's interface, LAN addresses only).
    static func mdnsConfiguration(listenAddresses: [Multiaddr], port: Int) -> MDNSConfiguration {
        let loopbackOnly = !listenAddresses.isEmpty && listenAddresses.allSatisfy(Self.isLoopback)
        return loopbackOnly
            ? MDNSConfiguration(port: port, interfaceAddress: "127.0.0.1", advertiseLoopback: true)
            : MDNSConfiguration(port: port)
    }

    /// Whether `address` starts with an IPv4 loopback address (127.0.0.0/8; the loopback group is IPv4).
    static func isLoopback(_ address: Multiaddr) -> Bool {
        guard case .ip4(let ip) = address.components.first else { return false }
        return ip.value >> 24 == 127
    }

    /// A discovered peer's addresses, each ending in `/p2p/<its id>` as discovery expects; addresses naming another
    /// peer are dropped.
    static func dialableAddresses(of peer: DiscoveredPeer) -> [Multiaddr] {
        peer.addresses.compactMap { address in
            if let named = address.peerID, named != peer.peerID { return nil }
            return address.removingPeerID().appending(.p2p(peer.peerID))
        }
    }

    public func listenAddresses() async -> [Multiaddr] {
        self.host.listenAddresses
    }

    public func dial(_ address: Multiaddr) async throws -> PeerID {
        if let peer = address.peerID, self.isBlocked(peer) {
            throw PrivacyNetworkError(.peerBlocked, "\(peer) is refused after repeated invalid messages")
        }
        return try await self.host.dial(address)
    }

    public func disconnect(from peer: PeerID) async {
        self.host.disconnect(from: peer)
    }

    public func ping(_ peer: PeerID) async throws {
        let times = try await self.host.ping(peer)
        if let last = times.last {
            self.state.withLock { $0.roundTrips[peer] = last }
        }
    }

    public func pingRoundTrips() async -> [PeerID: Duration] {
        let connected = Set(self.host.connectedPeers)
        return self.state.withLock { state in
            state.roundTrips = state.roundTrips.filter { connected.contains($0.key) }
            return state.roundTrips
        }
    }

    public func relay(_ envelope: [UInt8]) async throws {
        let report = try ReportEnvelope(decoding: envelope)
        guard let stem = self.state.withLock({ $0.stem }) else {
            throw PrivacyNetworkError(.notRunning, "the transport is not started")
        }
        // Our own report goes on the stem; it is never published by us first. With no relay it waits for one
        // until its embargo fires, and then we publish it ourselves.
        self.stemValidator.markAccepted(ReportID(report))
        await stem.ownReport(report)
    }

    public func publish(_ envelope: [UInt8]) async throws {
        try await self.gossip.publish(topic: PrivacyNetworkProtocol.reportTopic, data: envelope)
    }

    public func fetchReports(
        from peer: PeerID,
        epochs: [UInt32],
        deliver: @escaping @Sendable ([VerifiedReport]) async -> Void
    ) async throws {
        guard let newest = epochs.max() else { return }
        // One validator for all fetches: a report that an earlier (or concurrent) fetch already returned is a
        // duplicate here and costs no second proof-of-work check; the network still admits every returned envelope
        // (its own dedup and epoch window).
        let request = try SyncRequest(epochs: Array(Set(epochs)).sorted())
        let result: SyncFetchResult
        do {
            result = try await SyncProtocol.fetchReports(
                from: peer,
                on: self.host,
                request: request,
                validator: self.syncValidator,
                currentEpoch: newest,
                clock: self.clock,
                deliver: deliver
            )
        } catch {
            // A garbage or oversized response, or one too slow, is the peer's; a stream that failed is not.
            if PeerPenalties<PeerID>.Offence.badStream(error.code).weight > 0 {
                self.penalize(peer, .badStream(error.code), path: "sync response")
            }
            throw error
        }
        for rejection in result.rejections {
            self.penalize(peer, .invalidReport(rejection), path: "sync response")
        }
    }

    public func shutdown() async {
        let (tasks, stem) = self.state.withLock { state in
            defer {
                state.tasks = []
                state.callbacks = nil
                state.events = nil
                state.stem = nil
            }
            return (state.tasks, state.stem)
        }
        stem?.stop()
        self.topicPeers.close()
        let mdns = self.state.withLock { state in
            defer { state.mdns = nil }
            return state.mdns
        }
        await mdns?.stop()
        for task in tasks.dropFirst() {
            task.cancel()
        }
        await self.gossip.unsubscribe(PrivacyNetworkProtocol.reportTopic)
        await self.host.shutdown()
        for task in tasks {
            await task.value
        }
    }
}
