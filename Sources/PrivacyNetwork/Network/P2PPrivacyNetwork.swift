public import CommunityInsights
public import Foundation
public import P2PCore
public import PrivacyCore

/// The community network of one node: the original plan's `P2PPrivacyNetwork`, on libp2p and with the
/// privacy design's wire reports (privacy-design.md).
///
/// - ``initializeNetwork()`` creates the transport only with `joinPrivacyNetwork` on; otherwise nothing
///   is opened and it throws ``PrivacyNetworkError/Code/notJoined``.
/// - ``shareAnonymousData(_:of:)`` turns the user's anonymized summary into this epoch's two wire reports
///   (``EpochPlan`` with the device's ``RandomizerSecret``), mints their proof of work in the background
///   and hands each to the stem relay at its random moment. Without `shareAnonymousData` the summary is
///   only kept locally for the comparison.
/// - Inbound envelopes are admitted (size, decoding, parameters, epoch, proof of work, duplicates) and the
///   statistics are estimated from the admitted reports of the current epoch.
/// - ``updateSettings(_:)`` applies a change at once; turning sharing off cancels every unsent report.
///
/// Time comes from the injected `now` (epochs, schedules, peer activity) and `clock` (the tick timer);
/// randomness from the injected generator. Raw reports live in memory only.
public actor P2PPrivacyNetwork {
    /// Creates the transport once the user joined.
    public typealias TransportFactory = @Sendable () throws -> any PrivacyNetworkTransport

    /// What happened, for a user interface. Iterate it from one task.
    public nonisolated let events: AsyncStream<PrivacyNetworkEvent>

    private let eventContinuation: AsyncStream<PrivacyNetworkEvent>.Continuation
    private let configuration: PrivacyNetworkConfiguration
    private let makeTransport: TransportFactory
    private let secret: RandomizerSecret
    private let now: @Sendable () -> Date
    private let clock: any Clock<Duration>
    private var rng: any RandomNumberGenerator & Sendable

    private var gate: ConsentGate
    private var transport: (any PrivacyNetworkTransport)?
    private var transportCount = 0
    private var background: [UInt64: Task<Void, Never>] = [:]
    private var nextTaskID: UInt64 = 0
    private var mints: [ReportScheduleStateMachine.EntryID: Task<Void, Never>] = [:]
    private var schedule = ReportScheduleStateMachine()
    private var discovery: DiscoveryStateMachine
    /// Admission of inbound envelopes (size, layout, parameters, epoch window, proof of work, duplicates).
    private var validator: ReportValidator
    /// The admitted reports of the current and previous epoch, in memory only.
    private var pool = ReportPool(capacityPerEpoch: 200_000)
    /// Our own sent envelopes, by content ID, counted locally until they come back through gossip. Never
    /// served by sync: that would name us as their author.
    private var ownSent: [UInt32: [ReportID: WireReport]] = [:]
    private var truth: TrueReportValues?
    private var profile: LocalProfile?
    private var lastEpoch: UInt32?
    /// The counts of epochs whose raw reports were dropped, for the pooled sub-population figures.
    private var tallyHistory = EpochTallyHistory(capacity: NetworkParameters.maximumSubPopulationEpochs)
    private var syncedPeers: Set<PeerID> = []
    private var statisticsDirty = false
    private var lastPing: Date?
    /// This node's planned reports with their final moments (for the dashboard's disclosure; in memory only).
    private var plannedReports: [ScheduledWireReport] = []

    /// A network node; nothing is opened until ``initializeNetwork()``.
    /// - Parameters:
    ///   - settings: the user's consent settings.
    ///   - configuration: network parameters, bootstrap peers, timers.
    ///   - secret: the device-local randomizer secret (memoizes the permanent responses).
    ///   - now: the current time (wall clock in production).
    ///   - clock: times the tick loop.
    ///   - rng: fresh randomness (plans, moments, proof-of-work starting nonces).
    ///   - makeTransport: creates the libp2p side; called only after consent to join.
    public init(
        settings: P2PSettings,
        configuration: PrivacyNetworkConfiguration,
        secret: RandomizerSecret,
        now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(),
        rng: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        makeTransport: @escaping TransportFactory
    ) {
        (self.events, self.eventContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        self.configuration = configuration
        self.makeTransport = makeTransport
        self.secret = secret
        self.now = now
        self.clock = clock
        self.rng = rng
        self.gate = ConsentGate(settings: settings)
        self.discovery = DiscoveryStateMachine(
            bootstrap: configuration.bootstrap,
            connectionLimit: settings.maxConnections,
            autoReconnect: settings.autoReconnect,
            now: now()
        )
        self.validator = ReportValidator(parameters: configuration.parameters)
    }

    // MARK: The plan's operations

    /// Joins the network: creates the transport, starts listening and connects to the bootstrap peers.
    /// - Throws: ``PrivacyNetworkError`` with `.notJoined` when the user has not joined (nothing is created),
    ///   `.startFailed` when the transport cannot start.
    public func initializeNetwork() async throws {
        guard self.gate.mayOpenSockets else {
            throw PrivacyNetworkError(.notJoined, "not joined: turn on joinPrivacyNetwork to connect")
        }
        guard self.transport == nil else { return }
        let transport: any PrivacyNetworkTransport
        let events: AsyncStream<PrivacyTransportEvent>
        do {
            transport = try self.makeTransport()
            self.transportCount += 1
            events = try await transport.start(self.callbacks())
        } catch {
            throw PrivacyNetworkError(.startFailed, "the network could not start", underlying: error)
        }
        guard self.gate.mayOpenSockets, self.transport == nil else {
            // Consent was withdrawn (or another start won) while starting.
            await transport.shutdown()
            return
        }
        self.transport = transport
        self.discovery = DiscoveryStateMachine(
            bootstrap: self.configuration.bootstrap,
            connectionLimit: self.gate.settings.maxConnections,
            autoReconnect: self.gate.settings.autoReconnect,
            now: self.now()
        )
        self.syncedPeers = []
        // The event task ends when the transport's event stream finishes (shutdown); the tick task is
        // cancelled by disconnectFromNetwork().
        self.spawn { network in
            for await event in events {
                await network.transportEvent(event)
            }
        }
        if let interval = self.configuration.tickInterval {
            let clock = self.clock
            self.spawn { network in
                while !Task.isCancelled {
                    do { try await clock.sleep(for: interval) } catch { return }
                    await network.tick()
                }
            }
        }
        await self.tick()
    }

    /// Dials candidates up to the connection limit and returns the peers connected now.
    public func discoverPeers() async -> [PeerConnection] {
        await self.runDiscovery()
        return self.discovery.peers
    }

    /// Uses the user's anonymized summary (and the report it came from, for the true report values).
    ///
    /// The summary is kept locally for the comparison. With sharing on it becomes this epoch's plan (once
    /// per epoch: a later call in the same epoch only updates the comparison and the next epoch's plan).
    /// The region is dropped unless `shareRegionalData` is on.
    public func shareAnonymousData(_ summary: AnonymousPrivacyData, of report: PrivacyReport) async {
        let summary = self.gatedSummary(summary)
        self.truth = TrueReportValues(report: report, summary: summary)
        self.profile = LocalProfile(report: report, summary: summary)
        self.statisticsDirty = true
        self.planCurrentEpoch()
        await self.sendDue()
    }

    /// The statistics of the current epoch, estimated from the admitted reports (and our own sent ones).
    ///
    /// Until the current epoch has enough score reports to show (the display policy's network minimum), they are
    /// the previous, complete epoch's, if that one had enough: the figures do not drop to "gathering data" at
    /// every epoch boundary. ``CommunityStats/epoch`` and ``CommunityStats/isPreviousEpoch`` say which.
    public func getCommunityStats() -> CommunityStats {
        self.communityStats(from: self.statisticsSource())
    }

    private func communityStats(
        from source: StatisticsSource
    ) -> CommunityStats {
        CommunityStats(
            estimates: source.estimates,
            lastUpdated: self.now(),
            epochProgress: source.isPreviousEpoch ? 1 : self.epochProgress(),
            epoch: source.epoch,
            isPreviousEpoch: source.isPreviousEpoch
        )
    }

    /// How the user's score compares with the network (the same epoch as ``getCommunityStats()``); `nil` before
    /// ``shareAnonymousData(_:of:)``.
    public func getComparison() -> CommunityComparison? {
        self.comparison(from: self.statisticsSource())
    }

    private func comparison(
        from source: StatisticsSource
    ) -> CommunityComparison? {
        guard let profile = self.profile else { return nil }
        return CommunityComparison(
            profile: profile,
            estimates: source.estimates,
            epoch: source.epoch,
            isPreviousEpoch: source.isPreviousEpoch
        )
    }

    /// Sends a message the plan's way, mapped onto libp2p:
    /// - `privacyData`: the envelope goes to the stem relay (never published by us first); only with sharing on.
    /// - `statsRequest`: asks up to three connected peers for those epochs' reports (catch-up sync).
    /// - `peerDiscovery`: a discovery round.
    /// - Throws: ``PrivacyNetworkError`` `.notRunning` when not joined.
    public func broadcastToNetwork(_ message: NetworkMessage) async throws {
        guard let transport = self.transport else {
            throw PrivacyNetworkError(.notRunning, "the network is not running")
        }
        switch message {
        case .privacyData(let envelope):
            guard self.gate.maySendReports else { return }
            try await transport.relay(envelope.encode())
        case .statsRequest(let epochs):
            for peer in self.discovery.peers.prefix(self.configuration.syncPeers) {
                await self.sync(with: peer.id, epochs: epochs)
            }
        case .peerDiscovery:
            await self.runDiscovery()
        }
    }

    /// Leaves the network: cancels every unsent report, closes every connection and drops the transport.
    public func disconnectFromNetwork() async {
        self.cancelUnsentReports()
        for task in self.background.values {
            task.cancel()
        }
        self.background = [:]
        let transport = self.transport
        self.transport = nil
        await transport?.shutdown()
    }

    /// Applies new settings at once (see ``ConsentGate/change(to:)``).
    public func updateSettings(_ settings: P2PSettings) async throws {
        let change = self.gate.change(to: settings)
        self.gate = ConsentGate(settings: settings)
        if change.cancelUnsentReports {
            self.cancelUnsentReports()
        }
        if let limit = change.connectionLimit {
            for peer in self.discovery.setConnectionLimit(limit) {
                await self.transport?.disconnect(from: peer)
            }
        }
        if let reconnect = change.autoReconnect {
            self.discovery.setAutoReconnect(reconnect)
        }
        switch change.network {
        case .start: try await self.initializeNetwork()
        case .stop: await self.disconnectFromNetwork()
        case .keep: break
        }
    }

    // MARK: State for callers

    /// The current consent settings.
    public var settings: P2PSettings { self.gate.settings }

    /// Whether the transport is running.
    public var isRunning: Bool { self.transport != nil }

    /// How many transports were ever created (a consent test: zero without joining).
    public var transportsCreated: Int { self.transportCount }

    /// Our peer ID, when running.
    public var localPeerID: PeerID? { self.transport?.localPeerID }

    /// The bound listen addresses, when running.
    public func listenAddresses() async -> [Multiaddr] {
        await self.transport?.listenAddresses() ?? []
    }

    /// The number of planned reports not sent yet.
    public var pendingReports: Int { self.schedule.pendingCount }

    /// The report types already sent in `epoch`.
    public func sentReports(in epoch: UInt32) -> [ReportType] { self.schedule.sent[epoch] ?? [] }

    /// The number of admitted reports of `epoch` (from the network, not our own).
    public func admittedReports(in epoch: UInt32) -> Int { self.pool.count(epoch: epoch) }

    /// The current epoch, or `nil` if the clock is outside the epoch numbering.
    public var currentEpoch: UInt32? { try? self.configuration.parameters.schedule.epoch(containing: self.now()) }

    // MARK: Timer

    /// Looks at everything time-driven: epoch rollover, reports due, discovery, cleanup, statistics.
    func tick() async {
        guard let epoch = self.currentEpoch else { return }
        if self.lastEpoch != epoch {
            self.archiveTallies(before: epoch)
            self.lastEpoch = epoch
            self.pool.advance(to: epoch)
            self.schedule.forget(before: epoch == 0 ? 0 : epoch - 1)
            self.ownSent = self.ownSent.filter { $0.key + 1 >= epoch }
            self.statisticsDirty = true
            self.planCurrentEpoch()
        }
        await self.sendDue()
        if self.transport != nil {
            await self.runDiscovery()
            await self.pingPeersIfDue()
        }
        self.publishStatisticsIfChanged()
    }

    /// How many proof-of-work checks ran on this actor (only for envelopes handed over unverified; catch-up sync and
    /// gossip arrive verified by the transport).
    var workVerificationsOnActor: Int { self.validator.workVerifications }

    /// Waits for every proof of work running now (tests).
    func waitForMints() async {
        while let (_, task) = self.mints.first {
            await task.value
        }
    }

    // MARK: Reports

    private func gatedSummary(_ summary: AnonymousPrivacyData) -> AnonymousPrivacyData {
        guard summary.region != nil, self.gate.shareableRegion(summary.region) == nil else { return summary }
        return
            (try? AnonymousPrivacyData(
                privacyScore: summary.privacyScore,
                grade: summary.grade,
                trackerCount: summary.trackerCount,
                riskDistribution: summary.riskDistribution,
                websiteCategories: summary.websiteCategories,
                timestamp: summary.timestamp,
                region: nil
            )) ?? summary
    }

    private func planCurrentEpoch() {
        guard self.gate.maySendReports, let truth = self.truth, let epoch = self.currentEpoch,
            !self.schedule.hasPlanned(epoch)
        else { return }
        let regionSafe = self.gate.shareableRegion(truth.region) == truth.region
        guard regionSafe else { return }
        let parameters = self.configuration.parameters
        let plan = EpochPlan(
            epoch: epoch,
            schedule: parameters.schedule,
            settings: self.gate.settings,
            truth: truth,
            secret: self.secret,
            using: &self.rng
        )
        let action = self.schedule.planned(
            plan,
            now: self.now(),
            epochEnd: parameters.schedule.end(of: epoch),
            using: &self.rng
        )
        self.plannedReports = Self.scheduledReports(action)
        for (id, envelope) in action.mint.sorted(by: { $0.key < $1.key }) {
            let startNonce = self.rng.next()
            // A bridge: proof of work runs off the actor for seconds; the task is kept in `mints` and cancelled
            // when sharing stops (minting checks cancellation between scrypt calls).
            self.mints[id] = Task { [weak self] in
                var generator = FixedNonceGenerator(value: startNonce)
                let minted = try? await ProofOfWork.mint(envelope, parameters: parameters, using: &generator)
                await self?.mintFinished(id, minted)
            }
        }
    }

    private func mintFinished(_ id: ReportScheduleStateMachine.EntryID, _ envelope: ReportEnvelope?) async {
        self.mints[id] = nil
        guard let envelope else {
            self.schedule.mintFailed(id)
            return
        }
        if let send = self.schedule.minted(id, envelope: envelope, now: self.now()) {
            await self.send(send.envelope)
        }
    }

    private func sendDue() async {
        for send in self.schedule.tick(now: self.now()) {
            await self.send(send.envelope)
        }
    }

    private func send(_ envelope: ReportEnvelope) async {
        guard self.gate.maySendReports, let transport = self.transport else { return }
        let bytes = envelope.encode()
        self.ownSent[envelope.epoch, default: [:]][ReportID(data: bytes)] = envelope.report
        self.statisticsDirty = true
        self.eventContinuation.yield(.reportSent(envelope.report.type))
        do {
            try await transport.relay(bytes)
        } catch {
            self.eventContinuation.yield(.error("a report could not be relayed: \(error)"))
        }
    }

    private func cancelUnsentReports() {
        for id in self.schedule.cancelAll() {
            self.mints.removeValue(forKey: id)?.cancel()
        }
        for (_, task) in self.mints {
            task.cancel()
        }
        self.mints = [:]
    }

    /// Admits an inbound envelope.
    func admit(_ bytes: [UInt8], from peer: PeerID?) -> AdmissionVerdict {
        self.admitExplained(bytes, from: peer).verdict
    }

    /// Admits an inbound envelope and says why it was rejected.
    func admitExplained(_ bytes: [UInt8], from peer: PeerID?) -> AdmissionResult {
        guard let epoch = self.currentEpoch else { return AdmissionResult(verdict: .ignore) }
        if let peer { self.discovery.peerSeen(peer, now: self.now()) }
        switch self.validator.validate(bytes, currentEpoch: epoch) {
        case .accept(let envelope, let id):
            return self.insert(envelope, id: id, currentEpoch: epoch)
        case .ignore:
            return AdmissionResult(verdict: .ignore)
        case .reject(let reason):
            return AdmissionResult(verdict: .reject, rejection: reason)
        }
    }

    /// Admits a report whose work the transport verified: only the epoch window and duplicates are checked here, so
    /// no scrypt call runs on the actor.
    func admitVerified(_ report: VerifiedReport, from peer: PeerID?) -> AdmissionResult {
        guard let epoch = self.currentEpoch else { return AdmissionResult(verdict: .ignore) }
        if let peer { self.discovery.peerSeen(peer, now: self.now()) }
        let reportEpoch = report.envelope.epoch
        guard ReportValidator.isInEpochWindow(reportEpoch, current: epoch) else {
            return AdmissionResult(verdict: .reject, rejection: .wrongEpoch(epoch: reportEpoch, current: epoch))
        }
        // Bytes of the same report arriving later are a duplicate, not new work to verify.
        self.validator.markAccepted(report.id)
        return self.insert(report.envelope, id: report.id, currentEpoch: epoch)
    }

    private func insert(_ envelope: ReportEnvelope, id: ReportID, currentEpoch epoch: UInt32) -> AdmissionResult {
        switch self.pool.insert(envelope, id: id, currentEpoch: epoch) {
        case .inserted:
            self.statisticsDirty = true
            self.eventContinuation.yield(.reportAccepted(envelope.report.type, epoch: envelope.epoch))
            return AdmissionResult(verdict: .accept)
        case .duplicate:
            return AdmissionResult(verdict: .ignore)
        case .wrongEpoch:
            return AdmissionResult(verdict: .reject, rejection: .wrongEpoch(epoch: envelope.epoch, current: epoch))
        case .full:
            // Our memory limit, not the sender's fault: dropped without a penalty.
            return AdmissionResult(verdict: .ignore)
        }
    }

    /// The newest epoch first: a joining node verifies the reports in this order and shows the current epoch's
    /// statistics, so those arrive first (and fill the response when it is capped).
    private func syncResponse(epochs: [UInt32], limit: Int) -> [[UInt8]] {
        self.pool.envelopes(epochs: Set(epochs).sorted(by: >), limit: min(limit, self.configuration.syncLimit))
            .map { $0.encode() }
    }

    /// The estimates the statistics show, with the epoch they belong to.
    private typealias StatisticsSource = (estimates: CommunityEstimates, epoch: UInt32?, isPreviousEpoch: Bool)

    /// Publishes the statistics and the comparison (from one estimate) when reports changed them.
    private func publishStatisticsIfChanged() {
        guard self.statisticsDirty else { return }
        self.statisticsDirty = false
        let source = self.statisticsSource()
        self.eventContinuation.yield(
            .statisticsChanged(self.communityStats(from: source), self.comparison(from: source))
        )
    }

    /// The estimates the statistics show: the current epoch's, or the previous epoch's while the current one has
    /// too few score reports to show and the previous one had enough.
    private func statisticsSource() -> StatisticsSource {
        guard let epoch = self.currentEpoch else {
            return (CommunityEstimates(reports: [], policy: self.configuration.policy), nil, false)
        }
        let current = self.estimates(of: epoch)
        guard epoch > 0, !Self.isShowable(current) else { return (current, epoch, false) }
        let previous = self.estimates(of: epoch - 1)
        return Self.isShowable(previous) ? (previous, epoch - 1, true) : (current, epoch, false)
    }

    /// Whether the network-wide figures of `estimates` pass the display policy.
    private static func isShowable(_ estimates: CommunityEstimates) -> Bool {
        if case .shown = estimates.averageScore { return true }
        return false
    }

    /// The estimates of `epoch`: its admitted reports and our own sent ones not back from gossip yet; the tool and
    /// region figures pool the last ``NetworkParameters/subPopulationEpochs`` epochs (kept tallies of older ones).
    private func estimates(of epoch: UInt32) -> CommunityEstimates {
        let tally = self.liveTally(of: epoch) ?? ReportTally()
        let pooled = self.tallyHistory.pooled(
            endingWith: epoch,
            epochs: self.configuration.parameters.subPopulationEpochs,
            live: { $0 == epoch ? tally : self.liveTally(of: $0) }
        )
        return CommunityEstimates(
            tally: tally,
            policy: self.configuration.policy,
            pooled: pooled.tally,
            pooledEpochs: pooled.epochs
        )
    }

    /// The counts of `epoch` from the reports still held (admitted, and our own sent ones not back from gossip yet);
    /// `nil` when nothing of that epoch is held (the pool dropped it, or none arrived).
    private func liveTally(of epoch: UInt32) -> ReportTally? {
        guard self.pool.count(epoch: epoch) > 0 || !(self.ownSent[epoch] ?? [:]).isEmpty else { return nil }
        var reports = self.pool.reports(epoch: epoch)
        for (id, report) in self.ownSent[epoch] ?? [:] where !self.pool.contains(id) {
            reports.append(report)
        }
        return ReportTally(reports)
    }

    /// Keeps the counts of the epochs the pool is about to drop on entering `epoch` (raw reports are only kept for
    /// the current and previous epoch).
    private func archiveTallies(before epoch: UInt32) {
        guard let last = self.lastEpoch, last < epoch else { return }
        for old in [last &- 1, last] where old <= last && old + 1 < epoch && self.tallyHistory.tally(of: old) == nil {
            self.tallyHistory.record(self.liveTally(of: old) ?? ReportTally(), epoch: old)
        }
    }

    private func epochProgress() -> Double {
        let schedule = self.configuration.parameters.schedule
        guard let epoch = self.currentEpoch else { return 0 }
        let elapsed = self.now().timeIntervalSince(schedule.start(of: epoch))
        return elapsed / Double(schedule.lengthSeconds)
    }

    // MARK: Peers

    private func callbacks() -> PrivacyTransportCallbacks {
        PrivacyTransportCallbacks(
            admitExplained: { [weak self] bytes, peer in
                await self?.admitExplained(bytes, from: peer) ?? AdmissionResult(verdict: .ignore)
            },
            admitVerified: { [weak self] report, peer in
                await self?.admitVerified(report, from: peer) ?? AdmissionResult(verdict: .ignore)
            },
            syncResponse: { [weak self] epochs, limit in await self?.syncResponse(epochs: epochs, limit: limit) ?? [] }
        )
    }

    func transportEvent(_ event: PrivacyTransportEvent) async {
        let now = self.now()
        switch event {
        case .peerConnected(let peer, let dialedByUs):
            self.discovery.peerConnected(peer, dialedByUs: dialedByUs, now: now)
            self.eventContinuation.yield(.peerJoined(peer))
            if self.syncedPeers.count < self.configuration.syncPeers, self.syncedPeers.insert(peer).inserted,
                let epoch = self.currentEpoch
            {
                // Catch-up at join: the first peers are asked for the current and previous epoch's reports.
                let epochs = epoch == 0 ? [epoch] : [epoch - 1, epoch]
                self.spawn { network in await network.sync(with: peer, epochs: epochs) }
            }
        case .peerDisconnected(let peer):
            self.discovery.peerDisconnected(peer, now: now)
            self.eventContinuation.yield(.peerLeft(peer))
        case .addressesLearned(let addresses, let from):
            guard let local = self.transport?.localPeerID else { return }
            if let from { self.discovery.peerSeen(from, now: now) }
            self.discovery.learned(addresses, localPeer: local, now: now)
        case .error(let message):
            self.eventContinuation.yield(.error(message))
        }
    }

    private func sync(with peer: PeerID, epochs: [UInt32]) async {
        guard let transport = self.transport else { return }
        do {
            // The transport verifies the envelopes' work off this actor and hands them over in batches; each batch
            // is admitted at once and the statistics follow it, so they grow during a long catch-up.
            try await transport.fetchReports(from: peer, epochs: epochs) { [weak self] batch in
                await self?.admitSynced(batch, from: peer)
            }
        } catch {
            self.eventContinuation.yield(.error("catch-up sync with \(peer) failed: \(error)"))
        }
    }

    /// Admits one batch of verified catch-up reports and publishes the statistics if they changed.
    private func admitSynced(_ batch: [VerifiedReport], from peer: PeerID) {
        var rejected = 0
        for report in batch where self.admitVerified(report, from: peer).verdict == .reject {
            rejected += 1
        }
        if rejected > 0 {
            self.eventContinuation.yield(.error("\(peer) sent \(rejected) reports of an epoch no longer kept in sync"))
        }
        self.publishStatisticsIfChanged()
    }

    private func runDiscovery() async {
        guard let transport = self.transport else { return }
        let action = self.discovery.tick(now: self.now())
        for peer in action.disconnect {
            await transport.disconnect(from: peer)
        }
        for address in action.dial {
            // Connections are reported through the transport's events; a failure backs off.
            self.spawn { network in
                do {
                    _ = try await transport.dial(address)
                } catch {
                    await network.dialFailed(address)
                }
            }
        }
    }

    private func dialFailed(_ address: Multiaddr) {
        self.discovery.dialFailed(address, now: self.now())
    }

    private func pingPeersIfDue() async {
        let now = self.now()
        let interval = self.configuration.pingInterval
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        if let last = self.lastPing, now.timeIntervalSince(last) < seconds { return }
        self.lastPing = now
        guard let transport = self.transport else { return }
        for peer in self.discovery.peers {
            // A live peer is marked seen; a dead one ages out after five silent minutes.
            self.spawn { network in
                if (try? await transport.ping(peer.id)) != nil {
                    await network.peerAnswered(peer.id)
                }
            }
        }
    }

    private func peerAnswered(_ peer: PeerID) {
        self.discovery.peerSeen(peer, now: self.now())
    }

    /// Runs `work` in a background task kept until it finishes or the network disconnects. A bridge: the
    /// network owns these tasks and ``disconnectFromNetwork()`` cancels them.
    private func spawn(_ work: @escaping @Sendable (P2PPrivacyNetwork) async -> Void) {
        let id = self.nextTaskID
        self.nextTaskID += 1
        self.background[id] = Task { [weak self] in
            guard let self else { return }
            await work(self)
            await self.taskFinished(id)
        }
    }

    private func taskFinished(_ id: UInt64) {
        self.background[id] = nil
    }
}

/// Hands proof of work its starting nonce (drawn from the network's generator), then counts on.
struct FixedNonceGenerator: RandomNumberGenerator {
    var value: UInt64

    mutating func next() -> UInt64 {
        defer { self.value &+= 0x9E37_79B9_7F4A_7C15 }
        return self.value
    }
}

// MARK: - Dashboard accessors

/// One of this node's own wire reports as planned: what leaves, and when.
public struct ScheduledWireReport: Hashable, Sendable {
    /// The epoch it belongs to.
    public var epoch: UInt32
    /// The randomized report exactly as it is sent.
    public var report: WireReport
    /// When it leaves (a random moment of the epoch).
    public var sendAt: Date
}

extension P2PPrivacyNetwork {
    /// The network's parameters.
    public nonisolated var parameters: NetworkParameters { self.configuration.parameters }

    /// The peers connected now, most recently seen first.
    public func connectedPeers() -> [PeerConnection] { self.discovery.peers }

    /// The last measured round trip per connected peer (empty when not running).
    public func pingRoundTrips() async -> [PeerID: Duration] {
        await self.transport?.pingRoundTrips() ?? [:]
    }

    /// The estimates the statistics show (admitted reports and our own sent ones): this epoch's, or the previous
    /// epoch's while this one has too few score reports to show.
    public func currentEstimates() -> CommunityEstimates { self.statisticsSource().estimates }

    /// The user's own values, once a summary was shared.
    public var localProfile: LocalProfile? { self.profile }

    /// This node's planned reports of `epoch` with whether each was sent; a report not sent is listed only while
    /// sharing is on and reports are pending (turning sharing off cancels them).
    public func scheduledReports(in epoch: UInt32) -> [(report: ScheduledWireReport, sent: Bool)] {
        let sentTypes = self.schedule.sent[epoch] ?? []
        let pending = self.gate.maySendReports && self.schedule.pendingCount > 0
        return self.plannedReports.filter { $0.epoch == epoch }.compactMap { planned in
            let sent = sentTypes.contains(planned.report.type)
            return sent || pending ? (planned, sent) : nil
        }
    }

    private static func scheduledReports(_ action: ReportScheduleStateMachine.PlanAction) -> [ScheduledWireReport] {
        action.mint.keys.sorted().compactMap { id in
            guard let envelope = action.mint[id], let sendAt = action.sendAt[id] else { return nil }
            return ScheduledWireReport(epoch: id.epoch, report: envelope.report, sendAt: sendAt)
        }
    }
}
