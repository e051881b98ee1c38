import NIOCore
import P2PCore
import P2PGossipSub

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deterministic discrete-event simulation of a gossipsub network built from real ``GossipSubRouter``s.
///
/// There are no sockets, threads or clocks: links carry encoded RPC frames with a per-link latency on a
/// virtual clock, and every random choice comes from one seeded generator, so the same configuration always
/// gives the same ``GossipSimulationMetrics``. Hop counts are kept in a side table keyed by message ID, not
/// in the payload.
public struct GossipSimulation: Sendable {
    /// The parameters of the run.
    public let configuration: GossipSimulationConfiguration

    /// Creates a simulation.
    ///
    /// - Throws: ``GossipSimulationError`` when the configuration cannot run.
    public init(_ configuration: GossipSimulationConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Builds the network and runs it to the end.
    ///
    /// - Parameter progress: called with the fraction of virtual time done, at most about 100 times.
    public func run(progress: (Double) -> Void = { _ in }) -> GossipSimulationResult {
        let wallStart = ContinuousClock.now
        let cpuStart = Self.threadCPUSeconds()
        var network = SimulatedGossipNetwork(self.configuration)
        let setupCPU = Self.threadCPUSeconds() - cpuStart
        network.run(progress: progress)
        let metrics = network.metrics()
        let cpu = Self.threadCPUSeconds() - cpuStart
        let wall = ContinuousClock.now - wallStart
        let timing = GossipSimulationTiming(
            wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18,
            cpuSeconds: cpu,
            setupCPUSeconds: setupCPU,
            cpuMillisecondsPerPublish: self.configuration.publishes > 0
                ? (cpu - setupCPU) * 1000 / Double(self.configuration.publishes) : 0
        )
        return GossipSimulationResult(metrics: metrics, timing: timing)
    }

    /// The CPU time of the calling thread (the run is single-threaded), in seconds.
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

/// The mutable state of one run: routers, links, the event queue and the side tables for metrics.
struct SimulatedGossipNetwork {
    let configuration: GossipSimulationConfiguration
    let idFunction: GossipSubMessageIDFunction
    var rng: SeededGenerator
    var routers: [GossipSubRouter] = []
    var peerIDs: [PeerID] = []
    var nodeIndex: [PeerID: Int32] = [:]
    var isAdversary: [Bool]
    /// One-way latency in nanoseconds to each neighbour.
    var links: [[Int32: Int64]]
    var connections = 0
    var queue = GossipSimulationEventQueue()
    var now: Int64 = 0
    let heartbeatStart: Int64
    let endTime: Int64

    var bytesSent: [Int]
    var framesSent = 0
    var framesLost = 0
    var events = 0
    var messageIndex: [GossipMessageID: Int] = [:]
    var publishers: [Int] = []
    var publishTime: [Int64]
    /// Per message, per node: the hop count of the first copy received (-1: none; 0: the publisher).
    var firstHop: [[Int32]]
    /// Per message, per node: the fewest hops of any copy received (-1: none).
    var shortestHop: [[Int32]]
    /// Per message, per node: the virtual time of delivery (-1: not delivered).
    var deliveredAt: [[Int64]]
    /// Per message, per node: copies received.
    var copies: [[UInt16]]
    var settledAfter: Int?

    /// The virtual origin: router deadlines start one second after zero so that nothing underflows.
    static let origin: Int64 = 1_000_000_000

    init(_ configuration: GossipSimulationConfiguration) {
        self.configuration = configuration
        self.idFunction = configuration.router.topic(configuration.topic).messageIDFunction
        self.rng = SeededGenerator(seed: configuration.seed)
        let count = configuration.nodes
        self.isAdversary = Array(repeating: false, count: count)
        self.links = Array(repeating: [:], count: count)
        self.bytesSent = Array(repeating: 0, count: count)
        let messages = configuration.publishes
        self.publishTime = Array(repeating: 0, count: messages)
        self.firstHop = Array(repeating: Array(repeating: -1, count: count), count: messages)
        self.shortestHop = self.firstHop
        self.deliveredAt = Array(repeating: Array(repeating: -1, count: count), count: messages)
        self.copies = Array(repeating: Array(repeating: 0, count: count), count: messages)
        let interval = configuration.router.heartbeatInterval.nanoseconds
        self.heartbeatStart = interval / 10
        let lastPublish =
            configuration.warmUp.nanoseconds + Int64(max(messages - 1, 0)) * configuration.publishInterval.nanoseconds
        self.endTime = lastPublish + configuration.drain.nanoseconds

        self.buildNodes()
        self.buildTopology()
        self.schedule()
    }

    private mutating func buildNodes() {
        let count = self.configuration.nodes
        self.routers.reserveCapacity(count)
        for node in 0..<count {
            let seed = (0..<4).flatMap { _ in withUnsafeBytes(of: self.rng.next().littleEndian, Array.init) }
            guard let key = try? PrivateKey(ed25519Seed: seed),
                let router = try? GossipSubRouter(localKey: key, configuration: self.configuration.router)
            else {
                preconditionFailure("a 32-byte seed and a validated configuration always give a router")
            }
            self.peerIDs.append(router.localPeerID)
            self.nodeIndex[router.localPeerID] = Int32(node)
            self.routers.append(router)
            _ = self.routers[node].subscribe(self.configuration.topic, now: self.deadline, rng: &self.rng)
        }
        var order = Array(0..<count)
        order.shuffle(using: &self.rng)
        for node in order.prefix(self.configuration.adversaryCount) {
            self.isAdversary[node] = true
        }
    }

    private mutating func buildTopology() {
        let count = self.configuration.nodes
        let dials = self.configuration.degree / 2
        let minLatency = self.configuration.minLatency.nanoseconds
        let spread = UInt64(self.configuration.maxLatency.nanoseconds - minLatency)
        for node in 0..<count {
            var dialed = 0
            var attempts = 0
            while dialed < dials && attempts < dials * 20 {
                attempts += 1
                let other = Int.random(in: 0..<count, using: &self.rng)
                guard other != node, self.links[node][Int32(other)] == nil else { continue }
                let latency = minLatency + Int64(spread == 0 ? 0 : UInt64.random(in: 0...spread, using: &self.rng))
                self.links[node][Int32(other)] = latency
                self.links[other][Int32(node)] = latency
                self.connections += 1
                dialed += 1
                let dialerEffects = self.routers[node].peerConnected(self.peerIDs[other], outbound: true)
                self.handle(dialerEffects, at: node)
                let listenerEffects = self.routers[other].peerConnected(self.peerIDs[node], outbound: false)
                self.handle(listenerEffects, at: other)
            }
        }
    }

    private mutating func schedule() {
        let interval = self.configuration.router.heartbeatInterval.nanoseconds
        for node in 0..<self.configuration.nodes {
            let offset = Int64.random(in: 0..<interval, using: &self.rng)
            self.queue.schedule(at: self.heartbeatStart + offset, .heartbeat(Int32(node)))
        }
        self.queue.schedule(at: self.heartbeatStart + interval, .meshCheck(1))
        let honest = (0..<self.configuration.nodes).filter { !self.isAdversary[$0] }
        for index in 0..<self.configuration.publishes {
            self.publishers.append(honest.randomElement(using: &self.rng)!)
            let time =
                self.configuration.warmUp.nanoseconds + Int64(index) * self.configuration.publishInterval.nanoseconds
            self.queue.schedule(at: time, .publish(index))
        }
    }

    var deadline: NIODeadline { .uptimeNanoseconds(UInt64(Self.origin + self.now)) }

    mutating func run(progress: (Double) -> Void) {
        var reported = 0
        while let event = self.queue.next() {
            guard event.time <= self.endTime else { break }
            self.now = event.time
            self.events += 1
            let percent = self.endTime > 0 ? Int(self.now * 100 / self.endTime) : 100
            if percent > reported {
                reported = percent
                progress(Double(percent) / 100)
            }
            switch event.kind {
            case .frame(let from, let to, let bytes):
                self.receive(bytes, from: Int(from), at: Int(to))
            case .heartbeat(let node):
                let effects = self.routers[Int(node)].heartbeat(now: self.deadline, rng: &self.rng)
                self.handle(effects, at: Int(node))
                self.queue.schedule(
                    at: self.now + self.configuration.router.heartbeatInterval.nanoseconds,
                    .heartbeat(node)
                )
            case .publish(let index):
                self.publish(index)
            case .meshCheck(let round):
                self.checkMesh(round: round)
            }
        }
        if reported < 100 { progress(1) }
    }

    private mutating func publish(_ index: Int) {
        let node = self.publishers[index]
        let data = (0..<self.configuration.payloadSize).map { _ in UInt8.random(in: 0...255, using: &self.rng) }
        let published: (id: GossipMessageID, effects: [GossipSubEffect])
        do {
            published = try self.routers[node].publish(
                topic: self.configuration.topic,
                data: data,
                now: self.deadline,
                rng: &self.rng
            )
        } catch {
            preconditionFailure("a validated payload size and fresh random data always publish: \(error)")
        }
        self.messageIndex[published.id] = index
        self.publishTime[index] = self.now
        self.firstHop[index][node] = 0
        self.shortestHop[index][node] = 0
        self.deliveredAt[index][node] = self.now
        self.handle(published.effects, at: node)
    }

    private mutating func checkMesh(round: Int) {
        let configuration = self.configuration.router
        let range = configuration.meshDegreeLow...configuration.meshDegreeHigh
        if self.routers.allSatisfy({ range.contains($0.meshPeers(self.configuration.topic).count) }) {
            self.settledAfter = round
            return
        }
        let next = self.heartbeatStart + Int64(round + 1) * configuration.heartbeatInterval.nanoseconds
        if next <= self.endTime {
            self.queue.schedule(at: next, .meshCheck(round + 1))
        }
    }

    private mutating func receive(_ bytes: [UInt8], from sender: Int, at node: Int) {
        let peer = self.peerIDs[sender]
        let rpc: GossipSubRPC
        do {
            rpc = try GossipSubRPC(decoding: bytes, maxSize: self.configuration.router.maxReceiveSize)
        } catch let error as GossipSubError {
            self.handle(self.routers[node].rpcDecodingFailed(from: peer, error: error), at: node)
            return
        } catch {
            preconditionFailure("the RPC decoder throws only GossipSubError, not \(error)")
        }
        for message in rpc.messages {
            guard let index = self.messageIndex[self.idFunction.messageID(of: message)] else { continue }
            if self.copies[index][node] < UInt16.max { self.copies[index][node] += 1 }
            let hops = max(self.firstHop[index][sender], 0) + 1
            if self.firstHop[index][node] < 0 {
                self.firstHop[index][node] = hops
            }
            let shortest = self.shortestHop[index][node]
            if shortest < 0 || hops < shortest {
                self.shortestHop[index][node] = hops
            }
        }
        let effects = self.routers[node].rpcReceived(from: peer, rpc, now: self.deadline, rng: &self.rng)
        self.handle(effects, at: node)
    }

    /// Carries out a router's effects: sends go on the links, validations are accepted at once, deliveries
    /// are recorded.
    mutating func handle(_ effects: [GossipSubEffect], at node: Int) {
        var work = effects
        var position = 0
        while position < work.count {
            switch work[position] {
            case .send(let rpc, let peer):
                self.send(rpc, from: node, to: peer)
            case .validate(_, let id, _):
                work += self.routers[node].validationCompleted(messageID: id, result: .accept, now: self.deadline)
            case .deliver(_, let id, _):
                if let index = self.messageIndex[id], self.deliveredAt[index][node] < 0 {
                    self.deliveredAt[index][node] = self.now
                }
            case .event:
                break
            }
            position += 1
        }
    }

    private mutating func send(_ rpc: GossipSubRPC, from node: Int, to peer: PeerID) {
        guard let target = self.nodeIndex[peer], let latency = self.links[node][target] else { return }
        var rpc = rpc
        if self.isAdversary[node] {
            rpc.messages = []
            guard !rpc.isEmpty else { return }
        }
        let whole = rpc.encoded()
        guard Self.uvarintLength(whole.count) + whole.count > self.configuration.router.maxSendSize else {
            self.transmit(whole, from: node, to: target, latency: latency)
            return
        }
        let parts: [GossipSubRPC]
        do {
            parts = try rpc.split(maxFrameSize: self.configuration.router.maxSendSize)
        } catch {
            preconditionFailure("the router only queues RPC parts that fit its send limit: \(error)")
        }
        for part in parts {
            self.transmit(part.encoded(), from: node, to: target, latency: latency)
        }
    }

    /// Counts one frame and puts it on the link unless it is lost.
    private mutating func transmit(_ body: [UInt8], from node: Int, to target: Int32, latency: Int64) {
        self.bytesSent[node] += Self.uvarintLength(body.count) + body.count
        self.framesSent += 1
        let lossy = self.configuration.loss > 0 && self.now >= self.configuration.warmUp.nanoseconds
        if lossy && self.rng.nextUnit() < self.configuration.loss {
            self.framesLost += 1
            return
        }
        self.queue.schedule(at: self.now + latency, .frame(from: Int32(node), to: target, bytes: body))
    }

    static func uvarintLength(_ value: Int) -> Int {
        var length = 1
        var rest = value >> 7
        while rest > 0 {
            length += 1
            rest >>= 7
        }
        return length
    }

    func metrics() -> GossipSimulationMetrics {
        let count = self.configuration.nodes
        var hops: [Double] = []
        var shortestHops: [Double] = []
        var latencies: [Double] = []
        var duplicates: [Double] = []
        var pairs = 0
        var delivered = 0
        for index in 0..<self.configuration.publishes {
            let publisher = self.publishers[index]
            for node in 0..<count where !self.isAdversary[node] {
                let received = Int(self.copies[index][node])
                guard node != publisher else {
                    duplicates.append(Double(received))
                    continue
                }
                duplicates.append(Double(max(received - 1, 0)))
                pairs += 1
                let time = self.deliveredAt[index][node]
                guard time >= 0 else { continue }
                delivered += 1
                latencies.append(Double(time - self.publishTime[index]) / 1_000_000)
                hops.append(Double(self.firstHop[index][node]))
                shortestHops.append(Double(self.shortestHop[index][node]))
            }
        }
        let honest = (0..<count).filter { !self.isAdversary[$0] }
        let router = self.configuration.router
        return GossipSimulationMetrics(
            nodes: count,
            honestNodes: honest.count,
            connections: self.connections,
            publishes: self.configuration.publishes,
            meshDegree: router.meshDegree,
            meshDegreeLow: router.meshDegreeLow,
            meshDegreeHigh: router.meshDegreeHigh,
            deliveryRatio: pairs > 0 ? Double(delivered) / Double(pairs) : 1,
            undelivered: pairs - delivered,
            hops: GossipSimulationDistribution(hops),
            shortestHops: GossipSimulationDistribution(shortestHops),
            latencyMilliseconds: GossipSimulationDistribution(latencies),
            duplicatesPerNodePerMessage: GossipSimulationDistribution(duplicates),
            bytesSentPerNode: GossipSimulationDistribution(honest.map { Double(self.bytesSent[$0]) }),
            finalMeshSize: GossipSimulationDistribution(
                self.routers.map { Double($0.meshPeers(self.configuration.topic).count) }
            ),
            meshSettledAfterHeartbeats: self.settledAfter,
            framesSent: self.framesSent,
            framesLost: self.framesLost,
            events: self.events,
            virtualSeconds: Double(self.endTime) / 1e9
        )
    }
}
