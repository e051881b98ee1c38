import Foundation
import NIOCore
import PrivacyCore
import PrivacyNetwork

/// The parameters of one ``DandelionSimulation`` run.
public struct DandelionSimulationConfiguration: Hashable, Sendable, Codable {
    /// The number of nodes.
    public var nodes: Int
    /// The fraction of nodes that are colluding spies.
    public var adversaryFraction: Double
    /// The Dandelion++ fluff probability q (0.1–0.2).
    public var fluffProbability: Double
    /// The peers each node dials (its outbound peers, the relay candidates); the overlay's mean degree is twice this.
    public var outboundDegree: Int
    /// The number of reports; each is authored by a different honest node while honest nodes remain.
    public var reports: Int
    /// The mean one-hop latency in milliseconds (exponential per transmission).
    public var meanLatencyMilliseconds: Double
    /// The mean embargo in seconds.
    public var embargoMeanSeconds: Double
    /// The seed of every random choice.
    public var seed: UInt64
    /// Whether authors use the stem; false makes them publish to gossip directly (the baseline to compare with).
    public var useStem: Bool

    /// A configuration; `reports` defaults to one per honest node.
    public init(
        nodes: Int = 1000,
        adversaryFraction: Double = 0.2,
        fluffProbability: Double = 0.1,
        outboundDegree: Int = 4,
        reports: Int? = nil,
        meanLatencyMilliseconds: Double = 50,
        embargoMeanSeconds: Double = 30,
        seed: UInt64 = 1,
        useStem: Bool = true
    ) {
        self.useStem = useStem
        self.nodes = nodes
        self.adversaryFraction = adversaryFraction
        self.fluffProbability = fluffProbability
        self.outboundDegree = outboundDegree
        self.meanLatencyMilliseconds = meanLatencyMilliseconds
        self.embargoMeanSeconds = embargoMeanSeconds
        self.seed = seed
        self.reports = reports ?? (nodes - Int((Double(nodes) * adversaryFraction).rounded(.down)))
    }

    /// The number of spies.
    public var adversaryCount: Int { Int((Double(self.nodes) * self.adversaryFraction).rounded(.down)) }
}

/// Why a ``DandelionSimulationConfiguration`` cannot run.
public struct DandelionSimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, for people.
    public let message: String
    /// The message.
    public var description: String { self.message }
}

/// The outcome of one ``DandelionSimulation`` run.
public struct DandelionSimulationResult: Hashable, Sendable, Codable {
    /// The configuration that ran.
    public var configuration: DandelionSimulationConfiguration
    /// The number of honest nodes.
    public var honestNodes: Int
    /// The reports whose author the spies named correctly, over all reports (recall, the first-spy hit rate).
    public var authorHitRate: Double
    /// Dandelion++'s precision: for each honest node, the share of the reports the spies attributed to it that
    /// it really wrote (0 when none was attributed to it), averaged over honest nodes.
    public var precision: Double
    /// The reports some spy received at all (so the spies had a guess).
    public var reachedSpiesShare: Double
    /// The reports a spy first received on the stem (the others were first seen in gossip).
    public var firstSeenOnStemShare: Double
    /// The reports that entered gossip through an embargo timer rather than a diffuser.
    public var embargoFluffShare: Double
    /// The mean number of stem hops before the first spy received the report or it was fluffed.
    public var meanStemHops: Double
    /// The privacy-design target for the hit rate.
    public var target: Double
}

/// An in-memory simulation of the Dandelion++ stem relay (the real ``StemRelayStateMachine`` in every honest
/// node) followed by diffusion, measuring origin anonymity against colluding spies with the first-spy estimator:
/// the spies name as author the peer from which any of them first received the report, on the stem or in gossip
/// (privacy-design.md, "Who sees the author": target ≤ 0.05; Dandelion++ alone is expected near 0.2).
///
/// Topology: every node dials ``DandelionSimulationConfiguration/outboundDegree`` distinct random others; these
/// outbound peers are its relay candidates, and gossip (a flood to all neighbours, the worst case for the author)
/// uses every connection. Spies relay nothing further once one of them has the report: the estimate is fixed.
/// Each report runs in its own event queue on a virtual clock; the machines keep their routes across reports
/// (one stem epoch).
public struct DandelionSimulation: Sendable {
    /// The configuration.
    public let configuration: DandelionSimulationConfiguration

    /// A simulation.
    /// - Throws: ``DandelionSimulationError`` for sizes or probabilities out of range.
    public init(_ configuration: DandelionSimulationConfiguration) throws(DandelionSimulationError) {
        guard (3...100_000).contains(configuration.nodes) else {
            throw DandelionSimulationError(message: "nodes must be 3...100000, not \(configuration.nodes)")
        }
        guard (0..<1).contains(configuration.adversaryFraction) else {
            throw DandelionSimulationError(
                message: "adversaries must be in [0, 1), not \(configuration.adversaryFraction)"
            )
        }
        guard StemRelayConfiguration.fluffProbabilityRange.contains(configuration.fluffProbability) else {
            throw DandelionSimulationError(
                message:
                    "fluff must be in \(StemRelayConfiguration.fluffProbabilityRange), not \(configuration.fluffProbability)"
            )
        }
        guard (1..<configuration.nodes).contains(configuration.outboundDegree) else {
            throw DandelionSimulationError(message: "outbound degree must be 1...nodes-1")
        }
        guard configuration.reports >= 1, configuration.nodes - configuration.adversaryCount >= 1 else {
            throw DandelionSimulationError(message: "need at least one report and one honest node")
        }
        guard configuration.meanLatencyMilliseconds > 0, configuration.embargoMeanSeconds > 0 else {
            throw DandelionSimulationError(message: "latency and embargo must be positive")
        }
        self.configuration = configuration
    }

    private enum Event {
        case stem(envelope: ReportEnvelope, id: ReportID, from: Int, to: Int, hops: Int)
        case gossip(from: Int, to: Int)
        case embargo(node: Int)
    }

    /// Runs the simulation; `progress` gets the done fraction now and then.
    public func run(progress: (Double) -> Void = { _ in }) -> DandelionSimulationResult {
        let config = self.configuration
        var rng = SeededGenerator(seed: config.seed)
        let n = config.nodes
        var isSpy = [Bool](repeating: false, count: n)
        for index in Array(0..<n).shuffled(using: &rng).prefix(config.adversaryCount) { isSpy[index] = true }
        var neighbours = [[Int]](repeating: [], count: n)
        var outbound = [[Int]](repeating: [], count: n)
        for node in 0..<n {
            while outbound[node].count < config.outboundDegree {
                let other = Int.random(in: 0..<n, using: &rng)
                guard other != node, !neighbours[node].contains(other) else { continue }
                outbound[node].append(other)
                neighbours[node].append(other)
                neighbours[other].append(node)
            }
        }
        // The stem epoch lasts the whole run: the routes stay fixed, as within one Dandelion++ epoch.
        let stemConfiguration = try! StemRelayConfiguration(
            fluffProbability: config.fluffProbability,
            stemEpochLength: .hours(24 * 365),
            embargoMean: .nanoseconds(Int64(config.embargoMeanSeconds * 1e9))
        )
        let origin = NIODeadline.uptimeNanoseconds(1)
        var machines = (0..<n).map { node -> StemRelayStateMachine<Int> in
            var machine = StemRelayStateMachine<Int>(configuration: stemConfiguration)
            for peer in outbound[node] {
                _ = machine.peerConnected(peer, isOutbound: true, now: origin, using: &rng)
            }
            return machine
        }
        let honest = (0..<n).filter { !isSpy[$0] }
        let authors = (0..<config.reports).map { index in honest[index % honest.count] }
        let meanLatency = config.meanLatencyMilliseconds * 1e6

        var hits = 0
        var reached = 0
        var onStem = 0
        var embargoFluffs = 0
        var stemHopsTotal = 0
        var attributed = [Int](repeating: 0, count: n)
        var correct = [Int](repeating: 0, count: n)

        for (index, author) in authors.enumerated() {
            if index % 64 == 0 { progress(Double(index) / Double(authors.count)) }
            var queue = DandelionEventQueue<Event>()
            var gossiped = Set<Int>()
            var embargoDeadline: [Int: NIODeadline] = [:]
            var guess: Int?
            var guessOnStem = false
            var hops = 0
            var fluffedByEmbargo = false
            let envelope = try! ReportEnvelope(epoch: 1, report: .score(decile: index % 10), nonce: UInt64(index))
            let id = ReportID(envelope)
            func latency() -> TimeAmount {
                .nanoseconds(Int64(-meanLatency * log(1 - Double.random(in: 0..<1, using: &rng))))
            }
            func perform(_ actions: [StemRelayStateMachine<Int>.Action], at node: Int, now: NIODeadline, hops: Int) {
                for action in actions {
                    switch action {
                    case .sendStem(let envelope, let id, let peer):
                        queue.schedule(
                            at: now + latency(),
                            .stem(envelope: envelope, id: id, from: node, to: peer, hops: hops + 1)
                        )
                    case .fluff:
                        gossiped.insert(node)
                        for peer in neighbours[node] {
                            queue.schedule(at: now + latency(), .gossip(from: node, to: peer))
                        }
                    case .scheduleEmbargo(_, let deadline):
                        embargoDeadline[node] = deadline
                        queue.schedule(at: deadline, .embargo(node: node))
                    case .cancelEmbargo:
                        embargoDeadline[node] = nil
                    }
                }
            }
            let start = origin + .milliseconds(Int64(index) * 10)
            if config.useStem {
                perform(
                    machines[author].ownReport(envelope, id: id, now: start, using: &rng),
                    at: author,
                    now: start,
                    hops: 0
                )
            } else {
                perform([.fluff(envelope, id: id)], at: author, now: start, hops: 0)
            }
            while guess == nil, let (now, event) = queue.next() {
                switch event {
                case .stem(let envelope, let id, let from, let to, let stemHops):
                    if isSpy[to] {
                        guess = from
                        guessOnStem = true
                        hops = stemHops
                        continue
                    }
                    let actions = machines[to].stemReceived(envelope, id: id, from: from, now: now, using: &rng)
                    if actions.contains(where: { if case .fluff = $0 { true } else { false } }) { hops = stemHops }
                    perform(actions, at: to, now: now, hops: stemHops)
                case .gossip(let from, let to):
                    if isSpy[to] {
                        guess = from
                        continue
                    }
                    guard !gossiped.contains(to) else { continue }
                    gossiped.insert(to)
                    _ = machines[to].seenInGossip(id)
                    embargoDeadline[to] = nil
                    for peer in neighbours[to] where peer != from {
                        queue.schedule(at: now + latency(), .gossip(from: to, to: peer))
                    }
                case .embargo(let node):
                    guard embargoDeadline[node] == now else { continue }
                    let actions = machines[node].embargoExpired(id, now: now)
                    if gossiped.isEmpty && !actions.isEmpty { fluffedByEmbargo = true }
                    perform(actions, at: node, now: now, hops: 0)
                }
            }
            // Forget this report in every honest node that still holds it (its embargo would fire much later).
            for node in embargoDeadline.keys { _ = machines[node].seenInGossip(id) }
            if let guess {
                reached += 1
                attributed[guess] += 1
                if guess == author {
                    hits += 1
                    correct[author] += 1
                }
                if guessOnStem { onStem += 1 }
            }
            if fluffedByEmbargo { embargoFluffs += 1 }
            stemHopsTotal += hops
        }
        progress(1)
        let total = Double(authors.count)
        let precision =
            honest.reduce(0.0) { sum, node in
                sum + (attributed[node] == 0 ? 0 : Double(correct[node]) / Double(attributed[node]))
            } / Double(honest.count)
        return DandelionSimulationResult(
            configuration: config,
            honestNodes: honest.count,
            authorHitRate: Double(hits) / total,
            precision: precision,
            reachedSpiesShare: Double(reached) / total,
            firstSeenOnStemShare: Double(onStem) / total,
            embargoFluffShare: Double(embargoFluffs) / total,
            meanStemHops: Double(stemHopsTotal) / total,
            target: 0.05
        )
    }
}

/// A binary min-heap of simulation events by virtual time, first in first out at equal times.
struct DandelionEventQueue<Event> {
    private var heap: [(time: NIODeadline, sequence: Int, event: Event)] = []
    private var sequence = 0

    mutating func schedule(at time: NIODeadline, _ event: Event) {
        self.heap.append((time, self.sequence, event))
        self.sequence += 1
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(self.heap[child], self.heap[parent]) else { break }
            self.heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func next() -> (NIODeadline, Event)? {
        guard !self.heap.isEmpty else { return nil }
        self.heap.swapAt(0, self.heap.count - 1)
        let first = self.heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < self.heap.count && Self.before(self.heap[left], self.heap[smallest]) { smallest = left }
            if right < self.heap.count && Self.before(self.heap[right], self.heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            self.heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (first.time, first.event)
    }

    private static func before(
        _ lhs: (time: NIODeadline, sequence: Int, event: Event),
        _ rhs: (time: NIODeadline, sequence: Int, event: Event)
    ) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.sequence < rhs.sequence
    }
}
