import Foundation
import Logging
import P2PCore
import PrivacyCore
import Synchronization
import TestSupport
import Testing

@testable import PrivacyNetwork

/// A generator that always returns the same word: `Double.random(in: 0..<1)` is then a fixed fraction, so a
/// node's diffuser choice (q = 0.1) is decided by the test.
private struct ConstantRandom: RandomNumberGenerator, Sendable {
    let word: UInt64
    mutating func next() -> UInt64 { self.word }
}

/// What one node's admission callback saw.
private final class AdmissionLog: Sendable {
    private let entries = Mutex<[(id: ReportID, from: PeerID?)]>([])
    private let changes: AsyncStream<Void>.Continuation
    let updates: AsyncStream<Void>

    init() {
        (self.updates, self.changes) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func admit(_ bytes: [UInt8], from: PeerID?) -> AdmissionVerdict {
        let id = ReportID(data: bytes)
        let isNew = self.entries.withLock { entries in
            let isNew = !entries.contains { $0.id == id }
            entries.append((id, from))
            return isNew
        }
        self.changes.yield()
        return isNew ? .accept : .ignore
    }

    /// The first admission of `id`: who handed it to us (`nil`: we fluffed it ourselves).
    func first(_ id: ReportID) -> (seen: Bool, from: PeerID?) {
        self.entries.withLock { entries in
            guard let entry = entries.first(where: { $0.id == id }) else { return (false, nil) }
            return (true, entry.from)
        }
    }

    /// How many times this node admitted `id` as its own fluff.
    func fluffs(_ id: ReportID) -> Int {
        self.entries.withLock { entries in entries.filter { $0.id == id && $0.from == nil }.count }
    }
}

/// Starts `count` transports on loopback with `rng(index)` as each stem relay's randomness.
private func startTransports(
    _ count: Int,
    stem: StemRelayConfiguration,
    clock: TriggerClock,
    logger: Logger = Logger(label: "stem-test"),
    rng: (Int) -> UInt64
) async throws -> (
    transports: [LibP2PPrivacyTransport], logs: [AdmissionLog], events: [AsyncStream<PrivacyTransportEvent>]
) {
    var transports: [LibP2PPrivacyTransport] = []
    var logs: [AdmissionLog] = []
    var events: [AsyncStream<PrivacyTransportEvent>] = []
    for index in 0..<count {
        let transport = try LibP2PPrivacyTransport(
            identity: PrivateKey(),
            options: LibP2PPrivacyTransport.Options(
                listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")],
                maxConnections: 8,
                mdns: false,
                parameters: TestReports.parameters
            ),
            logger: logger,
            stem: stem,
            clock: clock,
            rng: ConstantRandom(word: rng(index))
        )
        let log = AdmissionLog()
        let stream = try await transport.start(
            PrivacyTransportCallbacks(
                admit: { bytes, from in log.admit(bytes, from: from) },
                syncResponse: { _, _ in [] }
            )
        )
        transports.append(transport)
        logs.append(log)
        events.append(stream)
    }
    return (transports, logs, events)
}

/// Waits until `log` admitted `id`.
private func waitUntilAdmitted(_ id: ReportID, by log: AdmissionLog) async {
    var updates = log.updates.makeAsyncIterator()
    while !log.first(id).seen {
        guard await updates.next() != nil else { return }
    }
}

@Suite("Dandelion++ stem relay driven inside LibP2PPrivacyTransport", .timeLimit(.minutes(2)))
struct StemTransportTests {
    @Test(
        "A report takes several stem hops to a diffuser, is fluffed there and reaches all; the author never publishes"
    )
    func multiHopStem() async throws {
        let count = 5
        let diffuser = 3
        // Embargo timers sleep on a clock the test never advances: only a diffuser can fluff.
        let clock = TriggerClock()
        let stem = try StemRelayConfiguration(fluffProbability: 0.1, relayCount: 2)
        // 0.5 ≥ q: relay; 0.0 < q: diffuser.
        let (transports, logs, events) = try await startTransports(count, stem: stem, clock: clock) { index in
            index == diffuser ? 0 : UInt64.max / 2
        }
        do {
            // A directed ring: node i dials node i + 1, so each node has exactly one outbound peer, its relay.
            for index in 0..<count {
                let next = transports[(index + 1) % count]
                let address = try #require(await next.listenAddresses().first)  // ends in /p2p/<id>
                #expect(try await transports[index].dial(address) == next.localPeerID)
            }
            for index in 0..<count {
                // The transport feeds the connection to its stem machine before reporting it.
                let next = transports[(index + 1) % count].localPeerID
                for await event in events[index] where event == .peerConnected(next, dialedByUs: true) { break }
                #expect(transports[index].stemRelays == [next])
                #expect(transports[index].isStemDiffuser == (index == diffuser))
            }
            // GossipSub forwards only to mesh peers, and the mesh forms at a heartbeat after the subscriptions
            // arrive: wait (on GossipSub's events) until every node's mesh holds both of its ring neighbours.
            for index in 0..<count {
                let neighbours: Set<PeerID> = [
                    transports[(index + count - 1) % count].localPeerID, transports[(index + 1) % count].localPeerID,
                ]
                #expect(await transports[index].waitForReportTopic { $0.mesh.isSuperset(of: neighbours) })
            }

            let epoch = try TestReports.parameters.schedule.epoch(containing: Date())
            let envelope = TestReports.minted(epoch: epoch, seed: 7)
            let id = ReportID(envelope)
            try await transports[0].relay(envelope.encode())

            // Every node admits the report (the author too, from gossip).
            for log in logs {
                await waitUntilAdmitted(id, by: log)
            }
            // Exactly one node fluffed it: the diffuser, three stem hops from the author (0 → 1 → 2 → 3).
            #expect((0..<count).map { logs[$0].fluffs(id) } == (0..<count).map { $0 == diffuser ? 1 : 0 })
            let counters = try (0..<count).map { try #require(transports[$0].stemCounters) }
            #expect(counters.map(\.stemReceived) == [0, 1, 1, 1, 0])
            #expect(counters.map(\.stemSent) == [1, 1, 1, 0, 0])
            #expect(counters.map(\.fluffs) == [0, 0, 0, 1, 0])
            #expect(counters.map(\.ownReports) == [1, 0, 0, 0, 0])
            // The author received its report from a peer: it never published it itself.
            #expect(logs[0].first(id).from != nil)
            // Nodes 1 and 2 got it on the stem and in gossip, never fluffing; node 4 only in gossip.
            for index in [1, 2, 4] {
                #expect(logs[index].first(id).from != nil)
            }
        } catch {
            for transport in transports { await transport.shutdown() }
            throw error
        }
        for transport in transports { await transport.shutdown() }
    }

    @Test("With no relay the author holds its report until the embargo, then publishes it once a peer subscribes")
    func embargoFallbackWaitsForTopicPeers() async throws {
        let clock = TriggerClock()
        let stem = try StemRelayConfiguration(fluffProbability: 0.1, relayCount: 2)
        let (transports, logs, events) = try await startTransports(2, stem: stem, clock: clock) { _ in
            UInt64.max / 2
        }
        let (author, listener) = (transports[0], transports[1])
        do {
            let epoch = try TestReports.parameters.schedule.epoch(containing: Date())
            let envelope = TestReports.minted(epoch: epoch, seed: 11)
            let id = ReportID(envelope)
            // Alone: the report waits for a relay, its embargo running.
            try await author.relay(envelope.encode())
            #expect(author.stemHeldCount == 1)
            #expect(author.stemCounters?.stemSent == 0)

            // The embargo fires with nobody to publish to: the fluff waits for a subscribed peer.
            // The timer may not sleep yet when we advance: each advance ends every sleep and the stem epoch timers
            // sleep again, so there is always a next sleeper to wait for before advancing once more.
            var sleepers = clock.sleepers.makeAsyncIterator()
            while author.stemCounters?.embargoesFired != 1 {
                guard await sleepers.next() != nil else { break }
                clock.advance(by: .seconds(3600))
            }
            #expect(await author.waitForReportTopic { $0.queuedFluffs == 1 })
            #expect(author.stemCounters?.embargoesFired == 1)
            #expect(author.stemHeldCount == 0)

            // The listener dials the author: an inbound peer is never a relay, but it subscribes to the topic.
            let address = try #require(await author.listenAddresses().first)
            #expect(try await listener.dial(address) == author.localPeerID)
            for await event in events[0] where event == .peerConnected(listener.localPeerID, dialedByUs: false) {
                break
            }
            #expect(author.stemRelays.isEmpty)
            await waitUntilAdmitted(id, by: logs[1])
            #expect(logs[1].first(id).from == author.localPeerID)
            #expect(logs[0].fluffs(id) == 0)
            #expect(author.stemCounters?.fluffs == 1)
        } catch {
            for transport in transports { await transport.shutdown() }
            throw error
        }
        for transport in transports { await transport.shutdown() }
    }

    @Test("An own report that gossip already carries when its embargo fires is not an error and not published again")
    func lateOwnFluffIsQuiet() async throws {
        let clock = TriggerClock()
        let capture = LogCapture()
        let stem = try StemRelayConfiguration(fluffProbability: 0.1, relayCount: 2)
        let (transports, logs, events) = try await startTransports(
            2,
            stem: stem,
            clock: clock,
            logger: capture.logger(label: "stem-test")
        ) { _ in UInt64.max / 2 }
        let (author, listener) = (transports[0], transports[1])
        do {
            // The listener dials the author: an inbound peer is never a relay, so the author's report is held.
            let address = try #require(await author.listenAddresses().first)
            #expect(try await listener.dial(address) == author.localPeerID)
            #expect(await author.waitForReportTopic { !$0.subscribed.isEmpty })
            let epoch = try TestReports.parameters.schedule.epoch(containing: Date())
            let envelope = TestReports.minted(epoch: epoch, seed: 12)
            let id = ReportID(envelope)
            // The report is in gossip already (as when a stem hop timed out after the relay had fluffed it), but the
            // stem relay does not know: its embargo still runs.
            try await author.publish(envelope.encode())
            await waitUntilAdmitted(id, by: logs[1])
            try await author.relay(envelope.encode())
            #expect(author.stemHeldCount == 1)
            var sleepers = clock.sleepers.makeAsyncIterator()
            while author.stemCounters?.embargoesFired != 1 {
                guard await sleepers.next() != nil else { break }
                clock.advance(by: .seconds(3600))
            }
            // The embargo's fluff finds the report already in gossip: counted, not logged as a failure.
            #expect(await author.waitForReportTopic { $0.queuedFluffs == 0 })
            while author.fluffsAlreadyInGossip == 0 {
                await Task.yield()
            }
            #expect(author.fluffsAlreadyInGossip == 1)
            #expect(capture.matching("report fluff not published").isEmpty)
            #expect(logs[1].first(id).from == author.localPeerID)
        } catch {
            for transport in transports { await transport.shutdown() }
            throw error
        }
        for transport in transports { await transport.shutdown() }
        var errors: [String] = []
        for await event in events[0] {
            if case .error(let message) = event { errors.append(message) }
        }
        #expect(errors.isEmpty)
    }
}
