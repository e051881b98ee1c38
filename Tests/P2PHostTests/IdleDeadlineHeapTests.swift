import NIOCore
import P2PCore
import TestSupport
import Testing

@testable import P2PHost

private func peer(_ seed: UInt8) throws -> PeerID {
    PeerID(publicKey: try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32)).publicKey)
}

private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

@Suite("Idle deadlines: the heap and the connection manager's idle closes at scale")
struct IdleDeadlineHeapTests {
    @Test("The heap hands entries back in (deadline, peer) order, also after removing some")
    func heapOrder() throws {
        let peers = try (1...8).map { try peer(UInt8($0)) }
        var generator = SplitMix64(seed: 42)
        var heap = IdleDeadlineHeap()
        var reference: [IdleDeadlineHeap.Entry] = []
        for _ in 0..<500 {
            let entry = IdleDeadlineHeap.Entry(
                deadline: start + .milliseconds(Int64.random(in: 0..<200, using: &generator)),
                peer: peers[Int.random(in: 0..<peers.count, using: &generator)]
            )
            heap.insert(entry)
            reference.append(entry)
        }
        let removed = peers[3]
        heap.removeAll { $0.peer == removed }
        reference.removeAll { $0.peer == removed }
        reference.sort { ($0.deadline, $0.peer) < ($1.deadline, $1.peer) }
        #expect(heap.count == reference.count)
        var popped: [IdleDeadlineHeap.Entry] = []
        while let entry = heap.removeFirst() {
            popped.append(entry)
        }
        #expect(popped == reference)
        #expect(heap.first == nil)
    }

    @Test("With 300 connections and stream churn, idle closes match a scan of every connection")
    func matchesReferenceModel() throws {
        let timeout = TimeAmount.seconds(10)
        var machine = ConnectionManagerStateMachine(idleTimeout: timeout, maxConnections: 1_000)
        var generator = SplitMix64(seed: 7)
        let peers = try (0..<300).map { index in
            PeerID(
                publicKey: try PrivateKey(ed25519Seed: (0..<32).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) })
                    .publicKey
            )
        }
        // The reference: per peer, open streams and last activity; closed once idle for the timeout.
        var streams: [PeerID: Int] = [:]
        var lastActivity: [PeerID: NIODeadline] = [:]
        var closed: Set<PeerID> = []
        var now = start
        for (index, remote) in peers.enumerated() {
            machine.connectionOpened(peer: remote, now: now + .milliseconds(Int64(index)))
            streams[remote] = 0
            lastActivity[remote] = now + .milliseconds(Int64(index))
        }
        for _ in 0..<40 {
            now = now + .milliseconds(Int64.random(in: 100...900, using: &generator))
            for _ in 0..<50 {
                let remote = peers[Int.random(in: 0..<peers.count, using: &generator)]
                guard !closed.contains(remote) else { continue }
                let count = Int.random(in: 0...2, using: &generator)
                machine.streamCountChanged(peer: remote, openStreams: count, now: now)
                streams[remote] = count
                lastActivity[remote] = now
            }
            let expected = peers.filter { remote in
                !closed.contains(remote) && streams[remote] == 0 && lastActivity[remote]! + timeout <= now
            }
            let actions = machine.timerFired(now: now)
            let closes = actions.compactMap { action -> PeerID? in
                if case .closeIdle(let peer) = action { return peer }
                return nil
            }
            #expect(Set(closes) == Set(expected))
            #expect(actions.count == expected.count)
            closed.formUnion(expected)
            let nextIdle = peers.filter { !closed.contains($0) && streams[$0] == 0 }
                .map { lastActivity[$0]! + timeout }.min()
            // Never later than the truth, so no close is late (an earlier wake-up finds nothing to do).
            if let nextIdle {
                #expect(try #require(machine.nextDeadline) <= nextIdle)
            }
        }
        #expect(!closed.isEmpty)
    }

    @Test("Idle closes come out in deadline order")
    func deadlineOrder() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .seconds(5))
        let (a, b, c) = (try peer(1), try peer(2), try peer(3))
        machine.connectionOpened(peer: c, now: start)
        machine.connectionOpened(peer: a, now: start + .seconds(1))
        machine.connectionOpened(peer: b, now: start + .seconds(2))
        #expect(
            machine.timerFired(now: start + .minutes(1)) == [
                .closeIdle(peer: c), .closeIdle(peer: a), .closeIdle(peer: b),
            ]
        )
    }

    @Test("A peer no longer kept becomes idle-closable again, from its last activity")
    func unkeepRearms() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .seconds(60))
        let remote = try peer(2)
        machine.keep(remote, addresses: [], now: start)
        machine.connectionOpened(peer: remote, now: start)
        #expect(machine.nextDeadline == nil)
        machine.unkeep(remote)
        #expect(machine.nextDeadline == start + .seconds(60))
        #expect(machine.timerFired(now: start + .seconds(60)) == [.closeIdle(peer: remote)])
    }

    @Test("Stale entries do not pile up: the heap stays proportional to the connections")
    func staleEntriesCompacted() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .seconds(60))
        let remote = try peer(2)
        machine.connectionOpened(peer: remote, now: start)
        for step in 1...10_000 {
            machine.streamCountChanged(peer: remote, openStreams: step % 2, now: start + .milliseconds(Int64(step)))
        }
        #expect(machine.pendingIdleDeadlineCount <= 2 + 64)
        #expect(machine.nextDeadline == start + .seconds(70))
    }
}
