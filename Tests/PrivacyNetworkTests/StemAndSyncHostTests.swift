import NIOCore
import P2PCore
import P2PHost
import PrivacyCore
import Synchronization
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("Stem and sync streams between in-process hosts", .timeLimit(.minutes(2)))
struct StemAndSyncHostTests {
    let parameters = TestReports.parameters
    let epoch: UInt32 = 10

    /// Starts `count` hosts, runs `body`, shuts them down.
    func withHosts(_ count: Int, _ body: ([LibP2PHost]) async throws -> Void) async throws {
        var hosts: [LibP2PHost] = []
        for _ in 0..<count {
            let host = try LibP2PHost(identity: PrivateKey())
            try await host.start()
            hosts.append(host)
        }
        do {
            try await body(hosts)
        } catch {
            for host in hosts { await host.shutdown() }
            throw error
        }
        for host in hosts { await host.shutdown() }
    }

    /// Registers a stem handler on `host` that yields each outcome.
    func stemInbox(
        on host: LibP2PHost,
        validator: SharedReportValidator,
        clock: any Clock<Duration> = ContinuousClock()
    ) -> AsyncStream<StemInbound> {
        let (inbox, continuation) = AsyncStream<StemInbound>.makeStream()
        let epoch = self.epoch
        host.setHandler(
            protocol: PrivacyNetworkProtocol.stem,
            handler: StemProtocol.handler(validator: validator, currentEpoch: { epoch }, clock: clock) {
                continuation.yield($0)
            }
        )
        return inbox
    }

    @Test("A report travels A → B → C on the stem, B relaying it as its machine decides")
    func stemRelayChain() async throws {
        try await self.withHosts(3) { hosts in
            let (a, b, c) = (hosts[0], hosts[1], hosts[2])
            _ = try await a.connect(inProcessTo: b)
            _ = try await b.connect(inProcessTo: c)
            let bInbox = self.stemInbox(on: b, validator: SharedReportValidator(parameters: self.parameters))
            let cInbox = self.stemInbox(on: c, validator: SharedReportValidator(parameters: self.parameters))

            // B's machine: C is its only outbound peer; pick a seed that makes B a relay, not a diffuser.
            var machine = StemRelayStateMachine<PeerID>(configuration: try StemRelayConfiguration())
            var rng = SplitMix64(seed: 0)
            let now = NIODeadline.uptimeNanoseconds(1)
            for seed in UInt64(0)..<100 {
                rng = SplitMix64(seed: seed)
                machine = StemRelayStateMachine<PeerID>(configuration: try StemRelayConfiguration())
                _ = machine.peerConnected(c.peerID, isOutbound: true, now: now, using: &rng)
                _ = machine.tick(now: now, using: &rng)
                if !machine.isDiffuser { break }
            }
            #expect(machine.relays == [c.peerID])

            let envelope = TestReports.minted(epoch: self.epoch)
            try await StemProtocol.send(envelope, to: b.peerID, on: a)
            var bIterator = bInbox.makeAsyncIterator()
            let received = try #require(await bIterator.next())
            guard case .accepted(let got, let id, let from) = received else {
                Issue.record("B did not accept: \(received)")
                return
            }
            #expect(got == envelope && from == a.peerID && id == ReportID(envelope))
            for action in machine.stemReceived(got, id: id, from: from, now: now, using: &rng) {
                if case .sendStem(let relayed, _, let peer) = action {
                    try await StemProtocol.send(relayed, to: peer, on: b)
                }
            }
            var cIterator = cInbox.makeAsyncIterator()
            #expect(await cIterator.next() == .accepted(envelope, id: id, from: b.peerID))

            // The same report again is a duplicate, not a penalty.
            try await StemProtocol.send(envelope, to: b.peerID, on: a)
            #expect(await bIterator.next() == .duplicate(id, from: a.peerID))
        }
    }

    @Test("Malformed stem messages are rejected with their reason and the sender named")
    func stemRejections() async throws {
        try await self.withHosts(2) { hosts in
            let (a, b) = (hosts[0], hosts[1])
            _ = try await a.connect(inProcessTo: b)
            var inbox = self.stemInbox(on: b, validator: SharedReportValidator(parameters: self.parameters))
                .makeAsyncIterator()
            let good = TestReports.minted(epoch: self.epoch).encode()
            var badMagic = good
            badMagic[1] = 0
            let cases: [([UInt8], String)] = [
                ([], "wrong_size"),
                (Array(good.prefix(511)), "wrong_size"),
                (good + [0], "wrong_size"),
                (good + good, "wrong_size"),
                (badMagic, "malformed"),
                (TestReports.unworked(epoch: self.epoch).encode(), "too_little_work"),
                (TestReports.minted(epoch: self.epoch - 2).encode(), "wrong_epoch"),
            ]
            for (bytes, reason) in cases {
                try await StemProtocol.send(bytes: bytes, to: b.peerID, on: a)
                let outcome = try #require(await inbox.next())
                guard case .rejected(.report(let rejection), let from) = outcome else {
                    Issue.record("\(bytes.count) bytes: expected \(reason), got \(outcome)")
                    continue
                }
                #expect(rejection.name == reason)
                #expect(from == a.peerID)
            }
        }
    }

    @Test("A stem sender that stalls is cut off by the timeout and reported")
    func stemTimeout() async throws {
        try await self.withHosts(2) { hosts in
            let (a, b) = (hosts[0], hosts[1])
            _ = try await a.connect(inProcessTo: b)
            let clock = TriggerClock()
            var inbox = self.stemInbox(
                on: b,
                validator: SharedReportValidator(parameters: self.parameters),
                clock: clock
            ).makeAsyncIterator()
            let stream = try await a.newStream(to: b.peerID, protocols: [PrivacyNetworkProtocol.stem])
            var buffer = stream.allocator.buffer(capacity: 100)
            buffer.writeBytes([UInt8](repeating: 1, count: 100))
            try await stream.write(buffer)
            var sleepers = clock.sleepers.makeAsyncIterator()
            _ = await sleepers.next()
            clock.expireAll()
            let outcome = try #require(await inbox.next())
            #expect(outcome == .rejected(.stream(PrivacyNetworkError(.timedOut, "")), from: a.peerID))
            await stream.close()
        }
    }

    @Test("A joining node syncs the current and previous epoch from a peer's pool, validating every envelope")
    func syncFetch() async throws {
        try await self.withHosts(2) { hosts in
            let (server, client) = (hosts[0], hosts[1])
            _ = try await client.connect(inProcessTo: server)
            var pool = ReportPool()
            var stored: [ReportEnvelope] = []
            for seed in UInt64(1)...4 {
                let envelope = TestReports.minted(epoch: seed % 2 == 0 ? self.epoch : self.epoch - 1, seed: seed)
                pool.insert(envelope, id: ReportID(envelope), currentEpoch: self.epoch)
                stored.append(envelope)
            }
            let snapshot = pool
            server.setHandler(
                protocol: PrivacyNetworkProtocol.sync,
                handler: SyncProtocol.handler { request in
                    snapshot.envelopes(epochs: request.epochs, limit: request.maximumEnvelopes)
                }
            )
            let validator = SharedReportValidator(parameters: self.parameters)
            let result = try await SyncProtocol.fetchReports(
                from: server.peerID,
                on: client,
                request: .catchUp(currentEpoch: self.epoch),
                validator: validator,
                currentEpoch: self.epoch
            )
            #expect(Set(result.accepted.map(\.envelope)) == Set(stored))
            #expect(result.rejections.isEmpty && !result.isPeerMisbehaving)

            // Asking again: everything is a duplicate; a limit of 1 brings one envelope.
            let again = try await SyncProtocol.fetchReports(
                from: server.peerID,
                on: client,
                request: try SyncRequest(epochs: [self.epoch], maximumEnvelopes: 1),
                validator: validator,
                currentEpoch: self.epoch
            )
            #expect(again.accepted.isEmpty && again.duplicates == 1)
        }
    }

    @Test("A large sync response is handed over in verified batches, in the server's order, as they are verified")
    func syncBatches() async throws {
        try await self.withHosts(2) { hosts in
            let (server, client) = (hosts[0], hosts[1])
            _ = try await client.connect(inProcessTo: server)
            let stored = (UInt64(1)...5).map { TestReports.minted(epoch: self.epoch, seed: 100 + $0) }
            let bad = TestReports.unworked(epoch: self.epoch, seed: 9)
            // The invalid one sits in the second batch: it is left out of it, and reported.
            let served = Array(stored[0..<3]) + [bad] + Array(stored[3...])
            server.setHandler(
                protocol: PrivacyNetworkProtocol.sync,
                handler: SyncProtocol.handler { _ in served }
            )
            let batches = Mutex<[[ReportEnvelope]]>([])
            let result = try await SyncProtocol.fetchReports(
                from: server.peerID,
                on: client,
                request: .catchUp(currentEpoch: self.epoch),
                validator: SharedReportValidator(parameters: self.parameters),
                currentEpoch: self.epoch,
                batchSize: 2
            ) { batch in
                batches.withLock { $0.append(batch.map(\.envelope)) }
            }
            #expect(batches.withLock { $0 } == [[stored[0], stored[1]], [stored[2]], [stored[3], stored[4]]])
            #expect(result.accepted.map(\.envelope) == stored)
            #expect(result.rejections.count == 1)
        }
    }

    @Test("A sync peer that returns invalid envelopes or a bad frame is reported")
    func syncGarbage() async throws {
        try await self.withHosts(2) { hosts in
            let (server, client) = (hosts[0], hosts[1])
            _ = try await client.connect(inProcessTo: server)
            let bad = TestReports.unworked(epoch: self.epoch)
            let old = TestReports.minted(epoch: self.epoch - 5)
            let good = TestReports.minted(epoch: self.epoch)
            server.setHandler(
                protocol: PrivacyNetworkProtocol.sync,
                handler: SyncProtocol.handler { _ in [bad, old, good] }
            )
            let result = try await SyncProtocol.fetchReports(
                from: server.peerID,
                on: client,
                request: .catchUp(currentEpoch: self.epoch),
                validator: SharedReportValidator(parameters: self.parameters),
                currentEpoch: self.epoch
            )
            #expect(result.accepted.map(\.envelope) == [good])
            #expect(result.rejections.map(\.name) == ["too_little_work", "wrong_epoch"])
            #expect(result.isPeerMisbehaving)

            // A server that answers with a broken frame.
            server.setHandler(protocol: PrivacyNetworkProtocol.sync) { stream in
                _ = try await stream.readToEnd(maxBytes: 64)
                var buffer = stream.allocator.buffer(capacity: 8)
                buffer.writeBytes([1, 0, 5, 9, 9])
                try await stream.write(buffer)
                try await stream.closeWrite()
                await stream.close()
            }
            await #expect(throws: PrivacyNetworkError(.malformedMessage, "")) {
                try await SyncProtocol.fetchReports(
                    from: server.peerID,
                    on: client,
                    request: .catchUp(currentEpoch: self.epoch),
                    validator: SharedReportValidator(parameters: self.parameters),
                    currentEpoch: self.epoch
                )
            }
        }
    }

    @Test("Catch-up asks at most three peers at once and deduplicates what they return")
    func catchUpFromPeers() async throws {
        try await self.withHosts(5) { hosts in
            let client = hosts[0]
            let servers = Array(hosts.dropFirst())
            let shared = TestReports.minted(epoch: self.epoch, seed: 1)
            for (index, server) in servers.enumerated() {
                _ = try await client.connect(inProcessTo: server)
                let own = TestReports.minted(epoch: self.epoch - 1, seed: UInt64(10 + index))
                server.setHandler(
                    protocol: PrivacyNetworkProtocol.sync,
                    handler: SyncProtocol.handler { _ in [shared, own] }
                )
            }
            let outcomes = await SyncProtocol.catchUp(
                from: servers.map(\.peerID),
                on: client,
                validator: SharedReportValidator(parameters: self.parameters),
                currentEpoch: self.epoch
            )
            #expect(Set(outcomes.keys) == Set(servers.prefix(3).map(\.peerID)))
            let results = try outcomes.values.map { try $0.get() }
            #expect(results.map(\.accepted.count).reduce(0, +) == 4)
            #expect(results.map(\.duplicates).reduce(0, +) == 2)
        }
    }

    @Test("A sync server rejects a malformed or oversized request and names the peer")
    func syncServerRejects() async throws {
        try await self.withHosts(2) { hosts in
            let (server, client) = (hosts[0], hosts[1])
            _ = try await client.connect(inProcessTo: server)
            let (errors, continuation) = AsyncStream<(PeerID, PrivacyNetworkError)>.makeStream()
            server.setHandler(
                protocol: PrivacyNetworkProtocol.sync,
                handler: SyncProtocol.handler(lookup: { _ in [] }, onError: { continuation.yield(($0, $1)) })
            )
            var iterator = errors.makeAsyncIterator()
            for (bytes, code) in [
                ([UInt8]([9, 9, 9]), PrivacyNetworkError.Code.malformedMessage),
                ([UInt8](repeating: 1, count: 100), .messageTooLarge),
            ] {
                let stream = try await client.newStream(to: server.peerID, protocols: [PrivacyNetworkProtocol.sync])
                var buffer = stream.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                try await stream.write(buffer)
                try? await stream.closeWrite()
                let (peer, error) = try #require(await iterator.next())
                #expect(peer == client.peerID)
                #expect(error.code == code)
                await stream.close()
            }
        }
    }
}
