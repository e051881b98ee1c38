import CommunityInsights
import Foundation
import P2PCore
import PrivacyCore
import TestSupport
import Testing

@testable import PrivacyNetwork

/// Cheap parameters: 10-minute epochs, 1 bit of work, the cheapest scrypt.
private let testParameters = try! NetworkParameters(
    label: "test",
    epochLengthSeconds: 600,
    difficultyBits: 1,
    scryptCostLog2: 1
)

private let testEpoch: UInt32 = 4_000

/// The nodes start in the epoch's last minute (planned moments already past are drawn again in it), so that
/// moving to the last instant never leaves a peer silent for the five minutes after which it is dropped.
private let lastMinute = testParameters.schedule.end(of: testEpoch).addingTimeInterval(-60)

/// The last instant of the epoch (moments are whole milliseconds): every planned report is due.
private let lastInstant = testParameters.schedule.end(of: testEpoch).addingTimeInterval(-0.001)

private func settings(join: Bool, share: Bool, region: Bool = false) -> P2PSettings {
    try! P2PSettings(joinPrivacyNetwork: join, shareAnonymousData: share, shareRegionalData: region)
}

private struct Node {
    var network: P2PPrivacyNetwork
    var user: SyntheticUser
}

private func makeNetwork(
    hub: MemoryHub,
    time: TestTime,
    settings: P2PSettings,
    bootstrap: [Multiaddr] = [],
    seed: UInt64
) -> P2PPrivacyNetwork {
    var rng = SeededGenerator(seed: seed)
    return P2PPrivacyNetwork(
        settings: settings,
        configuration: PrivacyNetworkConfiguration(
            parameters: testParameters,
            bootstrap: bootstrap,
            tickInterval: nil,
            policy: DisplayPolicy(subPopulationMinimum: 1, networkMinimum: 1)
        ),
        secret: RandomizerSecret.generate(using: &rng),
        now: time.source,
        rng: SeededGenerator(seed: seed &+ 1),
        makeTransport: hub.factory()
    )
}

private func share(_ user: SyntheticUser, on network: P2PPrivacyNetwork, time: TestTime, regional: Bool) async throws {
    let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, shareRegionalData: regional)
    let summary = try anonymizeForP2P(user.privacyReport, settings: settings, now: time.now)
    await network.shareAnonymousData(summary, of: user.privacyReport)
}

private func transport(of network: P2PPrivacyNetwork, on hub: MemoryHub) async throws -> MemoryTransport {
    guard let peer = await network.localPeerID, let transport = hub.transport(peer) else {
        throw MemoryHubError(message: "the network has no transport on this hub")
    }
    return transport
}

private func address(of network: P2PPrivacyNetwork, on hub: MemoryHub) async throws -> Multiaddr {
    guard let address = try await transport(of: network, on: hub).address else {
        throw MemoryHubError(message: "the transport has not started")
    }
    return address
}

/// Reads events until one matches.
private func waitFor(
    _ iterator: inout AsyncStream<PrivacyNetworkEvent>.Iterator,
    _ matches: (PrivacyNetworkEvent) -> Bool
) async -> PrivacyNetworkEvent? {
    while let event = await iterator.next() {
        if matches(event) { return event }
    }
    return nil
}

@Suite("P2PPrivacyNetwork", .timeLimit(.minutes(1)))
struct P2PPrivacyNetworkTests {
    @Test("Without joinPrivacyNetwork no transport is created, even when sharing is on")
    func notJoined() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let network = makeNetwork(hub: hub, time: time, settings: settings(join: false, share: true), seed: 1)
        let error = await #expect(throws: PrivacyNetworkError.self) { try await network.initializeNetwork() }
        #expect(error?.code == .notJoined)
        try await share(SyntheticPopulation(count: 1, seed: 1).users[0], on: network, time: time, regional: false)
        await network.tick()
        _ = await network.discoverPeers()
        #expect(hub.transportsCreated == 0)
        #expect(await network.transportsCreated == 0)
        #expect(await network.pendingReports == 0)
        #expect(await !network.isRunning)
    }

    @Test("Joined without sharing: the node receives reports but never relays or publishes its own")
    func listenOnly() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let sender = makeNetwork(hub: hub, time: time, settings: settings(join: true, share: true), seed: 2)
        try await sender.initializeNetwork()
        let senderAddress = try await address(of: sender, on: hub)
        let listener = makeNetwork(
            hub: hub,
            time: time,
            settings: settings(join: true, share: false),
            bootstrap: [senderAddress],
            seed: 3
        )
        var events = listener.events.makeAsyncIterator()
        try await listener.initializeNetwork()
        #expect(await waitFor(&events) { if case .peerJoined = $0 { true } else { false } } != nil)

        let users = SyntheticPopulation(count: 2, seed: 4).users
        try await share(users[0], on: sender, time: time, regional: false)
        try await share(users[1], on: listener, time: time, regional: false)
        #expect(await listener.pendingReports == 0)
        await sender.waitForMints()
        time.set(lastInstant)
        await sender.tick()
        await listener.tick()
        let listenerTransport = try await transport(of: listener, on: hub)
        #expect(listenerTransport.relayed.isEmpty)
        #expect(await listener.admittedReports(in: testEpoch) == 2)
        #expect(await listener.sentReports(in: testEpoch).isEmpty)
        // The listener is the sender's only relay: it published the sender's two reports, none of its own.
        #expect(listenerTransport.published.count == 2)
        let stats = await listener.getCommunityStats()
        #expect(stats.connectedPeers == 1)
        #expect(await listener.getComparison()?.userScore == users[1].privacyReport.score)
        await sender.disconnectFromNetwork()
        await listener.disconnectFromNetwork()
    }

    @Test("Turning sharing off cancels every report not yet sent, and none leaves afterwards")
    func sharingOffCancels() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let relay = makeNetwork(hub: hub, time: time, settings: settings(join: true, share: false), seed: 5)
        try await relay.initializeNetwork()
        let relayAddress = try await address(of: relay, on: hub)
        let author = makeNetwork(
            hub: hub,
            time: time,
            settings: settings(join: true, share: true),
            bootstrap: [relayAddress],
            seed: 6
        )
        var authorEvents = author.events.makeAsyncIterator()
        try await author.initializeNetwork()
        #expect(await waitFor(&authorEvents) { if case .peerJoined = $0 { true } else { false } } != nil)
        try await share(SyntheticPopulation(count: 1, seed: 7).users[0], on: author, time: time, regional: false)
        #expect(await author.pendingReports == 2)
        try await author.updateSettings(settings(join: true, share: false))
        #expect(await author.pendingReports == 0)
        await author.waitForMints()
        time.set(lastInstant)
        await author.tick()
        let authorTransport = try await transport(of: author, on: hub)
        #expect(authorTransport.relayed.isEmpty)
        #expect(await author.sentReports(in: testEpoch).isEmpty)
        // Turning it on again in the same epoch does not plan a second time.
        try await author.updateSettings(settings(join: true, share: true))
        try await share(SyntheticPopulation(count: 1, seed: 7).users[0], on: author, time: time, regional: false)
        #expect(await author.pendingReports == 0)
        await author.disconnectFromNetwork()
        await relay.disconnectFromNetwork()
    }

    @Test("Leaving the network closes the transport; joining again creates a new one")
    func leaveAndJoin() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let network = makeNetwork(hub: hub, time: time, settings: settings(join: true, share: false), seed: 8)
        try await network.initializeNetwork()
        #expect(await network.isRunning)
        try await network.updateSettings(P2PSettings())
        #expect(await !network.isRunning)
        try await network.updateSettings(settings(join: true, share: false))
        #expect(await network.isRunning)
        #expect(hub.transportsCreated == 2)
        await network.disconnectFromNetwork()
    }

    @Test("Region: regionGrade reports only with shareRegionalData on")
    func regionGate() async throws {
        let population = SyntheticPopulation(count: 400, seed: 9).users.filter { $0.region != nil }
        var regionReports = 0
        for (index, user) in population.prefix(30).enumerated() {
            for regional in [false, true] {
                let hub = MemoryHub(parameters: testParameters)
                let time = TestTime(lastMinute)
                let relay = makeNetwork(hub: hub, time: time, settings: settings(join: true, share: false), seed: 10)
                try await relay.initializeNetwork()
                let relayAddress = try await address(of: relay, on: hub)
                let author = makeNetwork(
                    hub: hub,
                    time: time,
                    settings: settings(join: true, share: true, region: regional),
                    bootstrap: [relayAddress],
                    seed: UInt64(100 + index)
                )
                try await author.initializeNetwork()
                try await share(user, on: author, time: time, regional: true)
                await author.waitForMints()
                time.set(lastInstant)
                await author.tick()
                let sent = await author.sentReports(in: testEpoch)
                #expect(sent.count == 2)
                if sent.contains(.regionGrade) {
                    #expect(regional)
                    regionReports += 1
                }
                await author.disconnectFromNetwork()
                await relay.disconnectFromNetwork()
            }
        }
        // With regional sharing on, a fifth of the secondary reports are regionGrade: some must appear.
        #expect(regionReports > 0)
    }

    @Test("Reports flow author → stem → gossip into every node's statistics (7 nodes)")
    func sevenNodes() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let users = SyntheticPopulation(count: 7, seed: 20).users
        var networks: [P2PPrivacyNetwork] = []
        for index in 0..<7 {
            var bootstrap: [Multiaddr] = []
            if let previous = networks.last {
                bootstrap = [try await address(of: previous, on: hub)]
            }
            let network = makeNetwork(
                hub: hub,
                time: time,
                settings: settings(join: true, share: true),
                bootstrap: bootstrap,
                seed: UInt64(200 + index)
            )
            var events = network.events.makeAsyncIterator()
            try await network.initializeNetwork()
            if !bootstrap.isEmpty {
                #expect(await waitFor(&events) { if case .peerJoined = $0 { true } else { false } } != nil)
            }
            networks.append(network)
        }
        for (network, user) in zip(networks, users) {
            try await share(user, on: network, time: time, regional: false)
        }
        for network in networks {
            await network.waitForMints()
        }
        time.set(lastInstant)
        for network in networks {
            await network.tick()
        }
        for network in networks {
            #expect(await network.sentReports(in: testEpoch).count == 2)
            // Every report reached every node; a node's own reports came back through gossip too, or
            // are counted locally.
            let stats = await network.getCommunityStats()
            #expect(stats.connectedPeers == 7)
            #expect(await network.admittedReports(in: testEpoch) == 14)
        }
        for network in networks {
            await network.disconnectFromNetwork()
        }
    }

    @Test("A node joining late catches up by sync from its first peers")
    func catchUp() async throws {
        let hub = MemoryHub(parameters: testParameters)
        let time = TestTime(lastMinute)
        let users = SyntheticPopulation(count: 3, seed: 30).users
        let first = makeNetwork(hub: hub, time: time, settings: settings(join: true, share: true), seed: 31)
        try await first.initializeNetwork()
        let firstAddress = try await address(of: first, on: hub)
        let second = makeNetwork(
            hub: hub,
            time: time,
            settings: settings(join: true, share: true),
            bootstrap: [firstAddress],
            seed: 32
        )
        var secondEvents = second.events.makeAsyncIterator()
        try await second.initializeNetwork()
        #expect(await waitFor(&secondEvents) { if case .peerJoined = $0 { true } else { false } } != nil)
        try await share(users[0], on: first, time: time, regional: false)
        try await share(users[1], on: second, time: time, regional: false)
        await first.waitForMints()
        await second.waitForMints()
        time.set(lastInstant)
        await first.tick()
        await second.tick()
        #expect(await first.admittedReports(in: testEpoch) == 4)

        let late = makeNetwork(
            hub: hub,
            time: time,
            settings: settings(join: true, share: false),
            bootstrap: [firstAddress],
            seed: 33
        )
        var events = late.events.makeAsyncIterator()
        try await late.initializeNetwork()
        let changed = await waitFor(&events) { event in
            if case .statisticsChanged(let stats, _) = event { stats.connectedPeers == 2 } else { false }
        }
        #expect(changed != nil)
        #expect(await late.admittedReports(in: testEpoch) == 4)
        // The transport verified the synced reports' work; the network's actor ran no scrypt call for them.
        #expect(await late.workVerificationsOnActor == 0)
        for network in [first, second, late] {
            await network.disconnectFromNetwork()
        }
    }
}
