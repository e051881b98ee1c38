import Foundation
import NIOCore
import P2PCore
import P2PGossipSub
import TestSupport

// `PhantomTrailBenchmarks gossip`: how many messages one GossipSub router can take in and pass on, and the CPU
// time per published message of the 1,000-node simulation. Prints one human-readable and one JSON line per figure.

/// The CPU time of the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

/// An Ed25519 key from a small number (benchmark identities only).
func benchmarkKey(_ n: Int) throws -> PrivateKey {
    try PrivateKey(
        ed25519Seed: [UInt8](repeating: 7, count: 28) + withUnsafeBytes(of: UInt32(n).bigEndian) { Array($0) }
    )
}

/// One router with 50 subscribed peers and a settled mesh receives `count` messages as encoded frames, each from
/// the next peer: decode the frame, check the signature policy (and verify the signature for StrictSign), accept,
/// forward to the mesh and encode the outbound frames. Messages carry 256 data bytes.
func benchmarkRouterForwarding(policy: GossipSubSignaturePolicy, count: Int) throws {
    let topic = "benchmark"
    var configuration = GossipSubConfiguration()
    configuration.defaultTopic = GossipSubTopicConfiguration(signaturePolicy: policy)
    var router = try GossipSubRouter(localKey: try benchmarkKey(1_000_000), configuration: configuration)
    var rng = SplitMix64(seed: 1)
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let peers = try (1...50).map { PeerID(publicKey: try benchmarkKey($0).publicKey) }
    for (index, peer) in peers.enumerated() {
        _ = router.peerConnected(peer, outbound: index % 2 == 0, colocationKey: "10.0.0.\(index)")
        _ = router.rpcReceived(
            from: peer,
            GossipSubRPC(subscriptions: [.init(subscribe: true, topic: topic)]),
            now: now,
            rng: &rng
        )
    }
    _ = router.subscribe(topic, now: now, rng: &rng)
    for _ in 0..<3 {
        now = now + .seconds(1)
        _ = router.heartbeat(now: now, rng: &rng)
    }

    // Inputs are built before timing: frames as they would arrive on the wire.
    let authors = try (0..<100).map { try benchmarkKey(2_000 + $0) }
    var frames: [ByteBuffer] = []
    frames.reserveCapacity(count)
    var payloadRNG = SplitMix64(seed: 2)
    for index in 0..<count {
        var data = [UInt8](repeating: 0, count: 256)
        for offset in stride(from: 0, to: data.count, by: 8) {
            withUnsafeBytes(of: payloadRNG.next()) { data.replaceSubrange(offset..<(offset + 8), with: $0) }
        }
        let message = try GossipMessage.make(
            topic: topic,
            data: data,
            policy: policy,
            key: policy == .strictSign ? authors[index % authors.count] : nil,
            seqno: UInt64(index + 1)
        )
        var frame = ByteBuffer()
        _ = try GossipSubRPC(messages: [message]).writeFrames(into: &frame)
        frames.append(frame)
    }

    var outbound = ByteBuffer()
    var forwardedCopies = 0
    var accepted = 0
    let clock = ContinuousClock()
    let cpuStart = threadCPUSeconds()
    let elapsed = try clock.measure {
        for index in 0..<count {
            var frame = frames[index]
            guard let rpc = try GossipSubRPC.readFrame(from: &frame) else { continue }
            let effects = router.rpcReceived(from: peers[index % peers.count], rpc, now: now, rng: &rng)
            for case .validate(_, let id, _) in effects {
                accepted += 1
                for case .send(let out, _) in router.validationCompleted(messageID: id, result: .accept, now: now) {
                    outbound.clear()
                    forwardedCopies += try out.writeFrames(into: &outbound) > 0 ? 1 : 0
                }
            }
        }
    }
    let cpu = threadCPUSeconds() - cpuStart
    let wall = seconds(elapsed)
    let name = policy == .strictSign ? "signed (StrictSign, verified)" : "unsigned (StrictNoSign)"
    print(
        "gossip router, \(name): \(Int(Double(accepted) / wall)) messages/s validated and forwarded "
            + "(\(accepted) of \(count) accepted, \(forwardedCopies) frames to the mesh, "
            + "\(String(format: "%.1f", cpu * 1e6 / Double(max(accepted, 1)))) µs CPU each)"
    )
    printJSON(
        policy == .strictSign ? "gossip_forward_signed" : "gossip_forward_unsigned",
        [
            "messages_per_second": Double(accepted) / wall,
            "cpu_microseconds_per_message": cpu * 1e6 / Double(max(accepted, 1)),
            "mesh_frames_per_message": Double(forwardedCopies) / Double(max(accepted, 1)),
        ]
    )
}

/// The 1,000-node, degree-20 simulation of the scale tests with `publishes` messages: CPU time per message.
func benchmarkGossipSimulation(publishes: Int) throws {
    var configuration = GossipSimulationConfiguration(nodes: 1000, degree: 20, publishes: publishes, seed: 42)
    configuration.warmUp = .seconds(4)
    configuration.drain = .milliseconds(3500)
    let result = try GossipSimulation(configuration).run()
    let timing = result.timing
    print(
        "gossip simulation, 1,000 nodes × 20 connections, \(publishes) publishes: "
            + "\(String(format: "%.1f", timing.cpuMillisecondsPerPublish)) ms CPU per published message "
            + "(total CPU \(String(format: "%.2f", timing.cpuSeconds)) s, set-up \(String(format: "%.2f", timing.setupCPUSeconds)) s, "
            + "wall \(String(format: "%.2f", timing.wallSeconds)) s; delivery \(result.metrics.deliveryRatio), "
            + "hops p99 \(result.metrics.hops.p99))"
    )
    printJSON(
        "gossip_simulation_1000",
        [
            "cpu_milliseconds_per_publish": timing.cpuMillisecondsPerPublish,
            "cpu_seconds": timing.cpuSeconds,
            "setup_cpu_seconds": timing.setupCPUSeconds,
            "wall_seconds": timing.wallSeconds,
        ]
    )
}

/// Runs every gossip benchmark.
func benchmarkGossip() throws {
    try benchmarkRouterForwarding(policy: .strictSign, count: 20_000)
    try benchmarkRouterForwarding(policy: .strictNoSign, count: 50_000)
    try benchmarkGossipSimulation(publishes: 20)
}
