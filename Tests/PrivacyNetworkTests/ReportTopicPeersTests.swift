import NIOCore
import P2PCore
import PrivacyCore
import Testing

@testable import PrivacyNetwork

@Suite("ReportTopicPeers: fluffs wait for a subscribed peer")
struct ReportTopicPeersTests {
    let alice = PeerID(publicKey: PrivateKey().publicKey)
    let bob = PeerID(publicKey: PrivateKey().publicKey)

    @Test("A fluff queued while the topic has no subscribed peer is released by the first update that has one")
    func releasedWhenSubscribed() {
        let peers = ReportTopicPeers()
        let first = TestReports.minted(seed: 1)
        let second = TestReports.minted(seed: 2)
        #expect(peers.enqueue(first) == nil)
        #expect(peers.update(subscribed: [], mesh: []).isEmpty)
        #expect(peers.enqueue(second) == nil)
        #expect(peers.snapshot.queuedFluffs == 2)
        #expect(peers.update(subscribed: [self.alice], mesh: []) == [first, second])
        #expect(peers.snapshot == ReportTopicPeers.Snapshot(subscribed: [self.alice], mesh: [], queuedFluffs: 0))
        // Released once: a later update has nothing left.
        #expect(peers.update(subscribed: [self.alice], mesh: [self.alice]).isEmpty)
    }

    @Test("A full queue drops its oldest fluff")
    func boundedQueue() {
        let peers = ReportTopicPeers(queueLimit: 2)
        let envelopes = (1...3).map { TestReports.minted(seed: UInt64($0)) }
        #expect(peers.enqueue(envelopes[0]) == nil)
        #expect(peers.enqueue(envelopes[1]) == nil)
        #expect(peers.enqueue(envelopes[2]) == envelopes[0])
        #expect(peers.update(subscribed: [self.bob], mesh: []) == [envelopes[1], envelopes[2]])
    }

    @Test("A waiter resumes on the update that satisfies it; close releases the others with false")
    func waiters() async {
        let peers = ReportTopicPeers()
        let alice = self.alice
        let bob = self.bob
        async let meshReady = peers.wait { $0.mesh.isSuperset(of: [alice, bob]) }
        async let neverReady = peers.wait { $0.subscribed.count > 5 }
        // Whether a waiter registers before or after an update, it sees the snapshot that satisfies it.
        _ = peers.update(subscribed: [alice], mesh: [alice])
        _ = peers.update(subscribed: [alice, bob], mesh: [alice, bob])
        #expect(await meshReady)
        peers.close()
        #expect(await neverReady == false)
        // Closed: nothing is queued any more and new waiters return at once.
        #expect(peers.enqueue(TestReports.minted(seed: 9)) == nil)
        #expect(peers.snapshot.queuedFluffs == 0)
        #expect(await peers.wait { _ in false } == false)
    }
}
