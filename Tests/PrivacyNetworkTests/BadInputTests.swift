import Foundation
import Logging
import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import PrivacyCore
import Synchronization
import TestSupport
import Testing

@testable import PrivacyNetwork

/// A node's admission for the tests: a real ``ReportValidator`` and ``ReportPool``, like ``P2PPrivacyNetwork``'s.
private actor Admitter {
    private var validator = ReportValidator(parameters: TestReports.parameters)
    private var pool = ReportPool()
    private let changes: AsyncStream<Void>.Continuation
    nonisolated let updates: AsyncStream<Void>

    init() {
        (self.updates, self.changes) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The epoch of this test process, read once: a run that crosses a 10-minute epoch boundary (the full unit
    /// suite takes about 150 s) would otherwise see its reports' epoch end halfway and lose them from the pool.
    static let currentEpoch: UInt32 = (try? TestReports.parameters.schedule.epoch(containing: Date())) ?? 0

    func admit(_ bytes: [UInt8]) -> AdmissionResult {
        let epoch = Self.currentEpoch
        self.pool.advance(to: epoch)
        switch self.validator.validate(bytes, currentEpoch: epoch) {
        case .accept(let envelope, let id):
            _ = self.pool.insert(envelope, id: id, currentEpoch: epoch)
            self.changes.yield()
            return AdmissionResult(verdict: .accept)
        case .ignore:
            return AdmissionResult(verdict: .ignore)
        case .reject(let reason):
            return AdmissionResult(verdict: .reject, rejection: reason)
        }
    }

    func contains(_ id: ReportID) -> Bool { self.pool.contains(id) }

    var count: Int { self.pool.count(epoch: Self.currentEpoch) }

    func envelopes() -> [[UInt8]] {
        self.pool.envelopes(epochs: [Self.currentEpoch], limit: 1024).map { $0.encode() }
    }

    /// Waits until `id` was admitted.
    func waitFor(_ id: ReportID) async {
        var iterator = self.updates.makeAsyncIterator()
        while !self.pool.contains(id) {
            guard await iterator.next() != nil else { return }
        }
    }
}

/// A victim node (the production transport with a capturing logger) and the hosts it meets.
private struct Victim {
    let transport: LibP2PPrivacyTransport
    let admitter: Admitter
    let logs: LogCapture
    let events: AsyncStream<PrivacyTransportEvent>

    static func start() async throws -> Victim {
        let logs = LogCapture()
        let admitter = Admitter()
        let transport = try LibP2PPrivacyTransport(
            identity: PrivateKey(),
            options: LibP2PPrivacyTransport.Options(
                listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")],
                maxConnections: 8,
                mdns: false,
                parameters: TestReports.parameters
            ),
            logger: logs.logger(label: "victim"),
            clock: TriggerClock()
        )
        let events = try await transport.start(
            PrivacyTransportCallbacks(
                admitExplained: { bytes, _ in await admitter.admit(bytes) },
                syncResponse: { _, _ in await admitter.envelopes() }
            )
        )
        return Victim(transport: transport, admitter: admitter, logs: logs, events: events)
    }

    var address: Multiaddr {
        get async throws {
            try #require(await self.transport.listenAddresses().first)
        }
    }
}

/// The setup every path shares: a victim, an attacker and a second peer (honest on the stem, the sync server), both
/// dialled to the victim, and on request a GossipSub service on the attacker that has seen the victim subscribe to
/// the report topic. ``run(gossip:_:)`` shuts everything down however the test ends.
private struct BadInputFixture {
    let victim: Victim
    let victimID: PeerID
    let attacker: LibP2PHost
    let other: LibP2PHost
    /// The attacker's GossipSub service (only with `gossip`).
    let gossip: GossipSubService?

    /// Runs `body` on a fresh fixture; `gossip` gives the attacker a GossipSub service with that configuration.
    static func run(
        gossip configuration: GossipSubServiceConfiguration? = nil,
        _ body: (BadInputFixture) async throws -> Void
    ) async throws {
        let victim = try await Victim.start()
        let attackerKey = PrivateKey()
        let attacker = try await startHost(identity: attackerKey)
        let other = try await startHost()
        var running: Task<Void, Never>?
        do {
            var gossip: GossipSubService?
            var gossipEvents: AsyncStream<GossipSubEvent>.AsyncIterator?
            if let configuration {
                let service = try GossipSubService(host: attacker, identity: attackerKey, configuration: configuration)
                running = Task { try? await service.run() }
                _ = await service.subscribe(PrivacyNetworkProtocol.reportTopic)
                gossipEvents = service.events.makeAsyncIterator()
                gossip = service
            }
            let victimID = try await attacker.dial(try await victim.address)
            _ = try await other.dial(try await victim.address)
            if let gossip {
                // Publish only once the victim's subscription arrived (a flood publish reaches subscribed peers).
                while await !gossip.peers(subscribedTo: PrivacyNetworkProtocol.reportTopic).contains(victimID) {
                    guard await gossipEvents?.next() != nil else { break }
                }
            }
            try await body(
                BadInputFixture(victim: victim, victimID: victimID, attacker: attacker, other: other, gossip: gossip)
            )
        } catch {
            running?.cancel()
            await Self.shutdown(victim, attacker, other)
            throw error
        }
        running?.cancel()
        await Self.shutdown(victim, attacker, other)
    }

    private static func shutdown(_ victim: Victim, _ hosts: LibP2PHost...) async {
        await victim.transport.shutdown()
        for host in hosts { await host.shutdown() }
    }
}

/// Starts a plain host on loopback with `identity`.
private func startHost(identity: PrivateKey = PrivateKey()) async throws -> LibP2PHost {
    let host = try LibP2PHost(
        identity: identity,
        configuration: HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
    )
    try await host.start()
    return host
}

/// Opens a stream of `protocolID` to `peer`, writes `bytes`, closes our side and reads the answer.
@discardableResult
private func exchange(
    _ bytes: [UInt8],
    protocolID: String,
    from host: LibP2PHost,
    to peer: PeerID
) async throws
    -> [UInt8]
{
    let stream = try await host.newStream(to: peer, protocols: [protocolID])
    var buffer = stream.allocator.buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    try await stream.write(buffer)
    try await stream.closeWrite()
    let answer = (try? await stream.readToEnd(maxBytes: 1 << 20)) ?? ByteBuffer()
    await stream.close()
    return Array(answer.readableBytesView)
}

/// Whether a penalty `score` is the sum of the offences' weights, `expected`, less at most 10% of decay: the score
/// halves every 10 minutes on the wall clock, and a loaded machine may take a while between an offence and the check.
/// It is never above the sum.
func isDecayed(_ score: Double, from expected: Double) -> Bool {
    score <= expected + 1e-9 && score >= expected * 0.9
}

@Suite("Bad input is rejected with a logged reason, the sender penalised, nothing lost", .timeLimit(.minutes(4)))
struct BadInputTests {
    let epoch = Admitter.currentEpoch

    @Test("Stem: wrong size, malformed, too little work and wrong epoch are logged and add up to a block")
    func stem() async throws {
        try await BadInputFixture.run { fixture in
            let (victim, victimID, attacker, honest) = (
                fixture.victim, fixture.victimID, fixture.attacker, fixture.other
            )

            // A valid stem report first: the victim has no relay, so it fluffs it, admitting it.
            let valid = TestReports.minted(epoch: self.epoch, seed: 21)
            try await StemProtocol.send(valid, to: victimID, on: honest)
            await victim.admitter.waitFor(ReportID(valid))

            let bad: [(bytes: [UInt8], reason: String)] = [
                ([UInt8](repeating: 7, count: 100), "wrong_size"),
                ([UInt8](repeating: 0, count: ReportEnvelope.size), "malformed"),
                (TestReports.unworked(epoch: self.epoch, seed: 3).encode(), "too_little_work"),
                (TestReports.minted(epoch: self.epoch + 5, seed: 4).encode(), "wrong_epoch"),
            ]
            var expected = 0.0
            for (bytes, reason) in bad {
                try await StemProtocol.send(bytes: bytes, to: victimID, on: attacker)
                await victim.logs.wait(for: "rejected a stem message", reason: reason)
                expected += reason == "wrong_epoch" ? 10 : 25
                #expect(isDecayed(victim.transport.penaltyScore(of: attacker.peerID), from: expected))
            }
            #expect(!victim.transport.isBlocked(attacker.peerID))
            // One more malformed message crosses the threshold: disconnected and refused.
            try await StemProtocol.send(bytes: [0, 1, 2], to: victimID, on: attacker)
            await victim.logs.wait(for: "disconnecting a misbehaving peer")
            #expect(victim.transport.isBlocked(attacker.peerID))
            #expect(victim.transport.penaltyScore(of: honest.peerID) == 0)
            for await event in victim.events where event == .peerDisconnected(attacker.peerID) { break }
            let redial = await #expect(throws: PrivacyNetworkError.self) {
                _ = try await victim.transport.dial(try #require(attacker.listenAddresses.first))
            }
            #expect(redial?.code == .peerBlocked)

            // Nothing lost: the admitted report is still there, and the honest peer's next one is admitted.
            #expect(await victim.admitter.contains(ReportID(valid)))
            let next = TestReports.minted(epoch: self.epoch, seed: 22)
            try await StemProtocol.send(next, to: victimID, on: honest)
            await victim.admitter.waitFor(ReportID(next))
            #expect(await victim.admitter.count == 2)
        }
    }

    @Test("Sync: garbage and oversized requests, garbage and wrong-epoch responses are logged and penalised")
    func sync() async throws {
        try await BadInputFixture.run { fixture in
            let (victim, victimID, client, server) = (fixture.victim, fixture.victimID, fixture.attacker, fixture.other)
            let valid = TestReports.minted(epoch: self.epoch, seed: 31)
            #expect(await victim.admitter.admit(valid.encode()).verdict == .accept)

            // Requests from a bad client: garbage (a bad count), then twice more than a request can be.
            _ = try? await exchange([9, 9, 9], protocolID: PrivacyNetworkProtocol.sync, from: client, to: victimID)
            await victim.logs.wait(for: "rejected a sync request message", reason: "malformed_message")
            #expect(isDecayed(victim.transport.penaltyScore(of: client.peerID), from: 25))
            let oversized = [UInt8](repeating: 1, count: 4096)
            _ = try? await exchange(oversized, protocolID: PrivacyNetworkProtocol.sync, from: client, to: victimID)
            await victim.logs.wait(for: "rejected a sync request message", reason: "message_too_large")
            #expect(isDecayed(victim.transport.penaltyScore(of: client.peerID), from: 75))
            _ = try? await exchange(oversized, protocolID: PrivacyNetworkProtocol.sync, from: client, to: victimID)
            await victim.logs.wait(for: "disconnecting a misbehaving peer")
            #expect(victim.transport.isBlocked(client.peerID))

            // Responses from a bad server: envelopes of an epoch nobody asked for, then garbage.
            let wrongEpoch = SyncResponse(envelopes: [TestReports.minted(epoch: self.epoch + 7, seed: 5)]).encode()
            let answers = AnswerQueue([wrongEpoch, [1, 0, 5, 9, 9]])
            server.setHandler(protocol: PrivacyNetworkProtocol.sync) { stream in
                _ = try? await stream.readToEnd(maxBytes: 64)
                var buffer = stream.allocator.buffer(capacity: 0)
                buffer.writeBytes(answers.next())
                try? await stream.write(buffer)
                try? await stream.closeWrite()
                await stream.close()
            }
            let fetched = Mutex(0)
            try await victim.transport.fetchReports(from: server.peerID, epochs: [self.epoch]) { batch in
                fetched.withLock { $0 += batch.count }
            }
            #expect(fetched.withLock { $0 } == 0)
            await victim.logs.wait(for: "rejected a sync response message", reason: "wrong_epoch")
            await #expect(throws: PrivacyNetworkError.self) {
                try await victim.transport.fetchReports(from: server.peerID, epochs: [self.epoch]) { _ in }
            }
            await victim.logs.wait(for: "rejected a sync response message", reason: "malformed_message")
            #expect(isDecayed(victim.transport.penaltyScore(of: server.peerID), from: 35))
            #expect(!victim.transport.isBlocked(server.peerID))

            // Nothing lost: the victim still serves its admitted report, and nothing else, to a newcomer.
            let newcomer = try await startHost()
            _ = try await newcomer.dial(try await victim.address)
            let answer = try await exchange(
                SyncRequest.catchUp(currentEpoch: self.epoch).encode(),
                protocolID: PrivacyNetworkProtocol.sync,
                from: newcomer,
                to: victimID
            )
            #expect(try SyncResponse(decoding: answer).envelopes == [valid.encode()])
            await newcomer.shutdown()
        }
    }

    @Test("Gossip: invalid envelopes are rejected by the validator, logged, scored by GossipSub (P4) and by us")
    func gossip() async throws {
        var configuration = GossipSubServiceConfiguration()
        configuration.router.topics[PrivacyNetworkProtocol.reportTopic] = GossipSubTopicConfiguration(
            signaturePolicy: .strictNoSign
        )
        try await BadInputFixture.run(gossip: configuration) { fixture in
            let (victim, attacker, gossip) = (fixture.victim, fixture.attacker, try #require(fixture.gossip))
            let valid = TestReports.minted(epoch: self.epoch, seed: 41)
            try await gossip.publish(topic: PrivacyNetworkProtocol.reportTopic, data: valid.encode())
            await victim.admitter.waitFor(ReportID(valid))

            let bad: [(bytes: [UInt8], reason: String)] = [
                ([UInt8](repeating: 0, count: ReportEnvelope.size), "malformed"),
                (TestReports.unworked(epoch: self.epoch, seed: 6).encode(), "too_little_work"),
                (TestReports.minted(epoch: self.epoch + 9, seed: 7).encode(), "wrong_epoch"),
            ]
            for (bytes, reason) in bad {
                try await gossip.publish(topic: PrivacyNetworkProtocol.reportTopic, data: bytes)
                await victim.logs.wait(for: "rejected a gossip message", reason: reason)
            }
            #expect(isDecayed(victim.transport.penaltyScore(of: attacker.peerID), from: 60))
            // GossipSub's own score: P4 counts the invalid deliveries (−10 · n² at most).
            let gossipScore = await victim.transport.gossipScore(of: attacker.peerID)
            #expect(gossipScore < 0, "GossipSub score \(gossipScore)")
            #expect(await victim.admitter.contains(ReportID(valid)))
            #expect(await victim.admitter.count == 1)
        }
    }

    @Test("Gossip: a signed message on the StrictNoSign topic is dropped before validation and penalised")
    func gossipRuleBroken() async throws {
        // The default topic policy signs: from, seqno, signature and key are all present.
        try await BadInputFixture.run(gossip: GossipSubServiceConfiguration()) { fixture in
            let (victim, attacker, gossip) = (fixture.victim, fixture.attacker, try #require(fixture.gossip))
            let signed = TestReports.minted(epoch: self.epoch, seed: 51)
            try await gossip.publish(topic: PrivacyNetworkProtocol.reportTopic, data: signed.encode())
            await victim.logs.wait(for: "rejected a gossip message", reason: "gossip_rule_broken")
            #expect(isDecayed(victim.transport.penaltyScore(of: attacker.peerID), from: 25))
            #expect(await !victim.admitter.contains(ReportID(signed)))
        }
    }
}

/// Answers handed out in order (the last one repeats).
private final class AnswerQueue: Sendable {
    private let answers: Mutex<[[UInt8]]>

    init(_ answers: [[UInt8]]) {
        self.answers = Mutex(answers)
    }

    func next() -> [UInt8] {
        self.answers.withLock { answers in
            answers.count > 1 ? answers.removeFirst() : answers.first ?? []
        }
    }
}
