import Foundation
import P2PCore
import P2PHost

// The libp2p benchmarks: `PhantomTrailBenchmarks handshakes|upgrades|throughput|memory [--peer <multiaddr>]`.
// Each prints one human-readable line and one JSON line. Timing is ContinuousClock wall time.

/// Seconds in a duration, as a double.
func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
}

/// Prints a JSON object with the benchmark name and its figures on one line.
func printJSON(_ name: String, _ fields: [String: Double]) {
    var object: [String: Any] = ["benchmark": name]
    for (key, value) in fields { object[key] = value }
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// The resident set size of this process in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A host listening on loopback TCP with room for many connections.
func makeListener() async throws -> LibP2PHost {
    var configuration = HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
    configuration.maxConnections = 1_000_000
    configuration.maxPendingHandshakes = 4_096
    let host = try LibP2PHost(identity: PrivateKey(), configuration: configuration)
    try await host.start()
    return host
}

/// Started hosts without listeners, one per connection (a host keeps one connection per peer).
func makeDialers(_ count: Int) async throws -> [LibP2PHost] {
    var hosts: [LibP2PHost] = []
    hosts.reserveCapacity(count)
    for _ in 0..<count {
        let host = try LibP2PHost(identity: PrivateKey())
        try await host.start()
        hosts.append(host)
    }
    return hosts
}

/// Dials `address` from every host, `inFlight` at a time.
func dialAll(_ hosts: [LibP2PHost], to address: Multiaddr, inFlight: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        while next < min(inFlight, hosts.count) {
            let host = hosts[next]
            group.addTask { _ = try await host.dial(address) }
            next += 1
        }
        while try await group.next() != nil {
            if next < hosts.count {
                let host = hosts[next]
                group.addTask { _ = try await host.dial(address) }
                next += 1
            }
        }
    }
}

/// Shuts every host down.
func shutdownAll(_ hosts: [LibP2PHost]) async {
    await withTaskGroup(of: Void.self) { group in
        for host in hosts { group.addTask { await host.shutdown() } }
    }
}

/// (a) Pure Noise XX machines, both roles in this thread.
func benchmarkHandshakes() throws {
    let initiator = PrivateKey()
    let responder = PrivateKey()
    _ = try NoiseHandshakeBenchmark.run(pairs: 200, initiator: initiator, responder: responder)
    let pairs = 5_000
    let clock = ContinuousClock()
    var completed = 0
    let elapsed = try clock.measure {
        completed = try NoiseHandshakeBenchmark.run(pairs: pairs, initiator: initiator, responder: responder)
    }
    let pairRate = Double(completed) / seconds(elapsed)
    let microsPerPair = seconds(elapsed) / Double(completed) * 1e6
    print(
        "handshakes: \(completed) Noise XX pairs in \(format(seconds(elapsed), 3)) s on one thread: "
            + "\(format(pairRate, 0)) pairs/s, \(format(microsPerPair, 1)) µs/pair, "
            + "\(format(2 * pairRate, 0)) handshakes/s/core per side (target ≥ 3,500)"
    )
    printJSON(
        "handshakes",
        [
            "pairs": Double(completed), "seconds": seconds(elapsed), "pairsPerSecond": pairRate,
            "perSidePerSecondPerCore": 2 * pairRate, "microsecondsPerPair": microsPerPair,
        ]
    )
}

/// (b) Full upgrades (TCP + mss + Noise + mss + Yamux) over loopback, dialer and listener in this process.
func benchmarkUpgrades(count: Int = 6_000, inFlight: Int = 64) async throws {
    let listener = try await makeListener()
    let address = listener.listenAddresses[0]
    let warmup = try await makeDialers(200)
    try await dialAll(warmup, to: address, inFlight: inFlight)
    await shutdownAll(warmup)
    let dialers = try await makeDialers(count)
    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        try await dialAll(dialers, to: address, inFlight: inFlight)
    }
    let rate = Double(count) / seconds(elapsed)
    print(
        "upgrades: \(count) loopback connections (TCP+Noise+Yamux, \(inFlight) in flight, dialer+listener in one "
            + "process) in \(format(seconds(elapsed), 3)) s: \(format(rate, 0)) upgrades/s (target ≥ 2,000)"
    )
    printJSON(
        "upgrades",
        [
            "connections": Double(count), "inFlight": Double(inFlight), "seconds": seconds(elapsed),
            "upgradesPerSecond": rate,
        ]
    )
    await shutdownAll(dialers)
    await listener.shutdown()
}

/// (c) One /perf stream over loopback TCP through Noise and Yamux; or against `peer` when given.
func benchmarkThroughput(downloadBytes: UInt64 = 1 << 30, uploadBytes: UInt64 = 1 << 30, peer: Multiaddr?) async throws
{
    let listener: LibP2PHost? = peer == nil ? try await makeListener() : nil
    let address = peer ?? listener!.listenAddresses[0]
    let client = try LibP2PHost(identity: PrivateKey())
    try await client.start()
    let remote = try await client.dial(address)
    _ = try await client.perf(to: remote, uploadBytes: 1 << 20, downloadBytes: 1 << 20)
    let download = try await client.perf(to: remote, uploadBytes: 0, downloadBytes: downloadBytes)
    let upload = try await client.perf(to: remote, uploadBytes: uploadBytes, downloadBytes: 0)
    let downRate = Double(download.downloadedBytes) / seconds(download.downloadDuration)
    let upRate = Double(upload.uploadedBytes) / seconds(upload.totalDuration)
    let target = peer == nil ? " (target ≥ 1 GB/s)" : " against \(address)"
    print(
        "throughput: /perf single stream over loopback TCP+Noise+Yamux: download \(download.downloadedBytes) B in "
            + "\(format(seconds(download.downloadDuration), 3)) s = \(format(downRate / 1e9, 3)) GB/s "
            + "(\(format(downRate * 8 / 1e9, 2)) Gbit/s); upload \(upload.uploadedBytes) B in "
            + "\(format(seconds(upload.totalDuration), 3)) s = \(format(upRate / 1e9, 3)) GB/s" + target
    )
    printJSON(
        peer == nil ? "throughput" : "throughput-remote",
        [
            "downloadBytes": Double(download.downloadedBytes), "downloadSeconds": seconds(download.downloadDuration),
            "downloadBytesPerSecond": downRate, "uploadBytes": Double(upload.uploadedBytes),
            "uploadSeconds": seconds(upload.totalDuration), "uploadBytesPerSecond": upRate,
        ]
    )
    await client.shutdown()
    await listener?.shutdown()
}

/// (d) Resident memory per idle connection (both ends in this process) over loopback TCP.
func benchmarkMemory(count: Int = 500) async throws {
    let listener = try await makeListener()
    let address = listener.listenAddresses[0]
    let dialers = try await makeDialers(count)
    try await Task.sleep(for: .milliseconds(500))
    let before = residentBytes()
    try await dialAll(dialers, to: address, inFlight: 32)
    // Let identify finish on every connection, so the connections are idle.
    try await Task.sleep(for: .seconds(2))
    let after = residentBytes()
    let perConnection = Double(after - before) / Double(count)
    print(
        "memory: \(count) idle loopback connections (both ends in this process, after identify): RSS "
            + "\(format(Double(before) / 1_048_576, 1)) MiB -> \(format(Double(after) / 1_048_576, 1)) MiB, "
            + "\(format(perConnection / 1024, 1)) KiB per connection (both ends)"
    )
    printJSON(
        "memory",
        [
            "connections": Double(count), "rssBefore": Double(before), "rssAfter": Double(after),
            "bytesPerConnection": perConnection,
        ]
    )
    await shutdownAll(dialers)
    await listener.shutdown()
}

/// Runs the named libp2p benchmark; returns false when the name is unknown.
func runP2PBenchmark(_ name: String, arguments: [String]) async throws -> Bool {
    var peer: Multiaddr?
    if let index = arguments.firstIndex(of: "--peer"), index + 1 < arguments.count {
        peer = try Multiaddr(parsing: arguments[index + 1])
    }
    switch name {
    case "handshakes": try benchmarkHandshakes()
    case "upgrades": try await benchmarkUpgrades()
    case "throughput": try await benchmarkThroughput(peer: peer)
    case "memory": try await benchmarkMemory()
    case "gossip-latency": try await benchmarkGossipLatency(arguments: arguments)
    case "gossip": try benchmarkGossip()
    case "p2p":
        try benchmarkHandshakes()
        try await benchmarkUpgrades()
        try await benchmarkThroughput(peer: nil)
        try await benchmarkMemory()
    default: return false
    }
    return true
}
