import NIOCore
import P2PCore
import TestSupport
import Testing

@testable import P2PHost

/// A generator that always returns the same word.
private struct ConstantGenerator: RandomNumberGenerator, Sendable {
    var word: UInt64

    mutating func next() -> UInt64 { self.word }
}

/// Keeps a peer that then goes away, and returns the first `count` redial delays the host schedules (the first after
/// the connection drops, the others after each refused redial), moving virtual time to each redial.
private func redialDelays(count: Int, jitter: any RandomNumberGenerator & Sendable) async throws -> [Duration] {
    let net = VirtualNetwork()
    let a = try await net.makeHost(listen: false, redialJitter: jitter)
    let b = try await net.makeHost()
    try a.host.keepConnected(to: try b.address)
    try await a.identified(b.peerID)
    // Gone for good: every redial is refused.
    await b.host.shutdown()
    try await a.disconnected(from: b.peerID)

    var delays: [Duration] = []
    while delays.count < count {
        // The refused redial is reported to the manager on its own task; virtual time stands still meanwhile. Until
        // then the deadline just reached (zero from now) or none (a dial in flight) shows.
        var delay = a.host.timeUntilConnectionManagerDeadline
        while (delay ?? .zero) <= .zero {
            await Task.yield()
            delay = a.host.timeUntilConnectionManagerDeadline
        }
        let next = try #require(delay)
        delays.append(next)
        await net.advance(by: EventLoopClock.timeAmount(next))
    }
    await a.host.shutdown()
    return delays
}

@Suite("Redial jitter from an injected generator", .timeLimit(.minutes(1)))
struct RedialJitterTests {
    @Test("Each redial waits the injected generator's next draw within a ceiling that doubles from 1 s")
    func seededDelays() async throws {
        let delays = try await redialDelays(count: 4, jitter: SeededGenerator(seed: 2026))
        var replica = SeededGenerator(seed: 2026)
        let expected = [1, 2, 4, 8].map { seconds in
            Duration.nanoseconds(Int64.random(in: 0...Int64(seconds) * 1_000_000_000, using: &replica))
        }
        #expect(delays == expected)
        for (delay, ceiling) in zip(delays, [1, 2, 4, 8]) {
            #expect(delay >= .zero && delay <= .seconds(ceiling))
        }
    }

    @Test("The same seed gives the same delays; another seed gives others")
    func reproducible() async throws {
        let first = try await redialDelays(count: 3, jitter: SeededGenerator(seed: 11))
        let again = try await redialDelays(count: 3, jitter: SeededGenerator(seed: 11))
        let other = try await redialDelays(count: 3, jitter: SeededGenerator(seed: 12))
        #expect(first == again)
        #expect(first != other)
    }

    @Test("The largest draw waits exactly the ceiling: 1 s, then doubling per refused redial")
    func upperBound() async throws {
        #expect(
            try await redialDelays(count: 4, jitter: ConstantGenerator(word: .max))
                == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)]
        )
    }
}
