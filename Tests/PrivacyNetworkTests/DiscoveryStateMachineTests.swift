import Foundation
import P2PCore
import Testing

@testable import PrivacyNetwork

@Suite("Discovery")
struct DiscoveryStateMachineTests {
    private let t0 = Date(timeIntervalSince1970: 2_000_000_000)
    private let local = PeerID(publicKey: PrivateKey().publicKey)

    private func peers(_ count: Int) -> [(PeerID, Multiaddr)] {
        (0..<count).map { index in
            let peer = PeerID(publicKey: PrivateKey().publicKey)
            return (peer, try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/\(4000 + index)/p2p/\(peer)"))
        }
    }

    @Test("Bootstrap peers are dialed at once, up to the connection limit")
    func bootstrapWithinLimit() {
        let known = self.peers(5)
        var machine = DiscoveryStateMachine(
            bootstrap: known.map(\.1),
            connectionLimit: 3,
            autoReconnect: true,
            now: self.t0
        )
        let first = machine.tick(now: self.t0)
        #expect(first.dial.count == 3)
        #expect(Set(first.dial).isSubset(of: Set(known.map(\.1))))
        #expect(machine.tick(now: self.t0).dial.isEmpty)
    }

    @Test("Addresses without a peer ID and our own address are ignored")
    func ignoresUnusable() throws {
        var machine = DiscoveryStateMachine(bootstrap: [], connectionLimit: 5, autoReconnect: true, now: self.t0)
        machine.learned(
            [
                try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/1"),
                try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/2/p2p/\(self.local)"),
            ],
            localPeer: self.local,
            now: self.t0
        )
        #expect(machine.tick(now: self.t0).dial.isEmpty)
    }

    @Test("Learned addresses fill free slots; connected peers are not dialed again")
    func learnedFillSlots() {
        let known = self.peers(4)
        var machine = DiscoveryStateMachine(bootstrap: [], connectionLimit: 3, autoReconnect: true, now: self.t0)
        machine.peerConnected(known[0].0, dialedByUs: false, now: self.t0)
        machine.learned(known.map(\.1), localPeer: self.local, now: self.t0)
        let action = machine.tick(now: self.t0)
        #expect(action.dial.count == 2)
        #expect(!action.dial.contains(known[0].1))
    }

    @Test("A failed dial backs off exponentially, and is retried only with autoReconnect")
    func backoff() {
        let known = self.peers(1)
        var machine = DiscoveryStateMachine(
            bootstrap: known.map(\.1),
            connectionLimit: 3,
            autoReconnect: true,
            now: self.t0
        )
        #expect(machine.tick(now: self.t0).dial == [known[0].1])
        machine.dialFailed(known[0].1, now: self.t0)
        #expect(machine.tick(now: self.t0.addingTimeInterval(0.5)).dial.isEmpty)
        #expect(machine.tick(now: self.t0.addingTimeInterval(1)).dial == [known[0].1])
        machine.dialFailed(known[0].1, now: self.t0.addingTimeInterval(1))
        #expect(machine.tick(now: self.t0.addingTimeInterval(2.5)).dial.isEmpty)
        #expect(machine.tick(now: self.t0.addingTimeInterval(3)).dial == [known[0].1])
        machine.setAutoReconnect(false)
        machine.dialFailed(known[0].1, now: self.t0.addingTimeInterval(3))
        #expect(machine.tick(now: self.t0.addingTimeInterval(1_000)).dial.isEmpty)
        #expect(DiscoveryStateMachine.backoff(failures: 30) == 300)
    }

    @Test("A dropped bootstrap peer is redialed after the backoff when reconnecting is on")
    func redialBootstrap() {
        let known = self.peers(1)
        var machine = DiscoveryStateMachine(
            bootstrap: known.map(\.1),
            connectionLimit: 3,
            autoReconnect: true,
            now: self.t0
        )
        _ = machine.tick(now: self.t0)
        machine.peerConnected(known[0].0, dialedByUs: true, now: self.t0)
        machine.peerDisconnected(known[0].0, now: self.t0.addingTimeInterval(10))
        #expect(machine.tick(now: self.t0.addingTimeInterval(10.5)).dial.isEmpty)
        #expect(machine.tick(now: self.t0.addingTimeInterval(11)).dial == [known[0].1])
    }

    @Test("A peer silent for five minutes is disconnected; a seen one is kept")
    func inactivity() {
        let known = self.peers(2)
        var machine = DiscoveryStateMachine(bootstrap: [], connectionLimit: 5, autoReconnect: true, now: self.t0)
        machine.peerConnected(known[0].0, dialedByUs: false, now: self.t0)
        machine.peerConnected(known[1].0, dialedByUs: false, now: self.t0)
        machine.peerSeen(known[1].0, now: self.t0.addingTimeInterval(200))
        #expect(machine.tick(now: self.t0.addingTimeInterval(299)).disconnect.isEmpty)
        #expect(machine.tick(now: self.t0.addingTimeInterval(300)).disconnect == [known[0].0])
        #expect(machine.peers.map(\.id) == [known[1].0])
        #expect(machine.peers.allSatisfy { $0.isActive && $0.region == nil })
    }

    @Test("Lowering the limit names the least recently seen peers to drop")
    func lowerLimit() {
        let known = self.peers(3)
        var machine = DiscoveryStateMachine(bootstrap: [], connectionLimit: 5, autoReconnect: true, now: self.t0)
        for (index, (peer, _)) in known.enumerated() {
            machine.peerConnected(peer, dialedByUs: true, now: self.t0.addingTimeInterval(Double(index)))
        }
        #expect(machine.setConnectionLimit(1) == [known[0].0, known[1].0])
        #expect(machine.connectionLimit == 1)
    }
}
