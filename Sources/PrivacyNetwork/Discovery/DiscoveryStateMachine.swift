import Foundation
import P2PCore

/// Which peers to dial, keep and drop (issue 5, "Discovery"). Pure: the caller passes `now` and carries out
/// the returned dials and disconnects.
///
/// - Candidates come from bootstrap addresses (settings or flags), identify's listen addresses, GossipSub
///   PRUNE peer exchange and, when enabled, mDNS.
/// - The node dials candidates while it has fewer connections than the limit (1–20, from settings).
/// - A peer not heard from (connection, identify, ping, report) for ``inactivityTimeout`` is disconnected
///   and forgotten.
/// - A bootstrap peer that drops is redialed with exponential backoff (1 s doubling to 5 minutes) only with
///   `autoReconnect` on; a failed dial of any candidate backs off the same way.
struct DiscoveryStateMachine {
    /// How long a peer may be silent before it is dropped: 5 minutes.
    static let inactivityTimeout: TimeInterval = 300
    /// The first redial delay.
    static let initialBackoff: TimeInterval = 1
    /// The longest redial delay.
    static let maximumBackoff: TimeInterval = 300
    /// The most candidate addresses remembered (oldest learned are forgotten first).
    static let maximumCandidates = 256

    private struct Candidate {
        var address: Multiaddr
        var isBootstrap: Bool
        var failures = 0
        var notBefore: Date
        var learnedAt: Date
    }

    private struct Peer {
        var lastSeen: Date
        var dialedByUs: Bool
    }

    /// What to do after time passed.
    struct TickAction: Hashable, Sendable {
        /// Addresses to dial now.
        var dial: [Multiaddr] = []
        /// Peers to disconnect now (silent too long).
        var disconnect: [PeerID] = []
    }

    private(set) var connectionLimit: Int
    private(set) var autoReconnect: Bool
    private var candidates: [PeerID: Candidate] = [:]
    private var connected: [PeerID: Peer] = [:]
    private var dialing: Set<PeerID> = []

    /// A machine with `bootstrap` addresses (each must end in `/p2p/<id>`; others are ignored).
    init(bootstrap: [Multiaddr], connectionLimit: Int, autoReconnect: Bool, now: Date) {
        self.connectionLimit = max(1, connectionLimit)
        self.autoReconnect = autoReconnect
        for address in bootstrap {
            guard let peer = address.peerID else { continue }
            self.candidates[peer] = Candidate(address: address, isBootstrap: true, notBefore: now, learnedAt: now)
        }
    }

    /// The peers connected now, most recently seen first.
    var peers: [PeerConnection] {
        self.connected.map {
            PeerConnection(id: $0.key, lastSeen: $0.value.lastSeen, isActive: true, dialedByUs: $0.value.dialedByUs)
        }
        .sorted { ($0.lastSeen, $0.id) > ($1.lastSeen, $1.id) }
    }

    /// The number of open connections.
    var connectedCount: Int { self.connected.count }

    /// Changes the connection limit; returns the peers to disconnect (the least recently seen beyond it).
    mutating func setConnectionLimit(_ limit: Int) -> [PeerID] {
        self.connectionLimit = max(1, limit)
        let excess = self.connected.count - self.connectionLimit
        guard excess > 0 else { return [] }
        return self.connected.sorted { ($0.value.lastSeen, $0.key) < ($1.value.lastSeen, $1.key) }
            .prefix(excess).map(\.key)
    }

    /// Turns reconnection on or off.
    mutating func setAutoReconnect(_ on: Bool) {
        self.autoReconnect = on
    }

    /// A connection to `peer` opened.
    mutating func peerConnected(_ peer: PeerID, dialedByUs: Bool, now: Date) {
        self.dialing.remove(peer)
        self.connected[peer] = Peer(lastSeen: now, dialedByUs: dialedByUs)
        if var candidate = self.candidates[peer] {
            candidate.failures = 0
            self.candidates[peer] = candidate
        }
    }

    /// The last connection to `peer` closed. A bootstrap peer becomes a redial candidate with backoff (when
    /// reconnecting is on).
    mutating func peerDisconnected(_ peer: PeerID, now: Date) {
        self.connected[peer] = nil
        self.dialing.remove(peer)
        if var candidate = self.candidates[peer] {
            candidate.notBefore = now.addingTimeInterval(Self.backoff(failures: candidate.failures))
            candidate.failures += 1
            self.candidates[peer] = candidate
        }
    }

    /// Something was heard from `peer`.
    mutating func peerSeen(_ peer: PeerID, now: Date) {
        self.connected[peer]?.lastSeen = now
    }

    /// Addresses learned from identify, peer exchange or mDNS. Only addresses with `/p2p/<id>` of a peer
    /// other than `localPeer` are kept.
    mutating func learned(_ addresses: [Multiaddr], localPeer: PeerID, now: Date) {
        for address in addresses {
            guard let peer = address.peerID, peer != localPeer, self.candidates[peer] == nil else { continue }
            self.candidates[peer] = Candidate(address: address, isBootstrap: false, notBefore: now, learnedAt: now)
        }
        if self.candidates.count > Self.maximumCandidates {
            let forgettable = self.candidates.filter { !$0.value.isBootstrap }
                .sorted { ($0.value.learnedAt, $0.key) < ($1.value.learnedAt, $1.key) }
            for (peer, _) in forgettable.prefix(self.candidates.count - Self.maximumCandidates) {
                self.candidates[peer] = nil
            }
        }
    }

    /// A dial of `address` failed: back off before trying it again.
    mutating func dialFailed(_ address: Multiaddr, now: Date) {
        guard let peer = address.peerID else { return }
        self.dialing.remove(peer)
        guard var candidate = self.candidates[peer] else { return }
        candidate.notBefore = now.addingTimeInterval(Self.backoff(failures: candidate.failures))
        candidate.failures += 1
        self.candidates[peer] = candidate
    }

    /// Time passed: silent peers to drop and candidates to dial up to the connection limit.
    mutating func tick(now: Date) -> TickAction {
        var action = TickAction()
        for (peer, state) in self.connected.sorted(by: { $0.key < $1.key })
        where now.timeIntervalSince(state.lastSeen) >= Self.inactivityTimeout {
            action.disconnect.append(peer)
            self.connected[peer] = nil
            if let candidate = self.candidates[peer], !candidate.isBootstrap {
                self.candidates[peer] = nil
            }
        }
        var slots = self.connectionLimit - self.connected.count - self.dialing.count
        let ready = self.candidates.filter { peer, candidate in
            self.connected[peer] == nil && !self.dialing.contains(peer) && candidate.notBefore <= now
                && (candidate.failures == 0 || self.autoReconnect)
        }
        // Bootstrap peers first, then by how long the address has been known.
        for (peer, candidate) in ready.sorted(by: { lhs, rhs in
            (lhs.value.isBootstrap ? 0 : 1, lhs.value.learnedAt, lhs.key) < (
                rhs.value.isBootstrap ? 0 : 1, rhs.value.learnedAt, rhs.key
            )
        }) {
            guard slots > 0 else { break }
            self.dialing.insert(peer)
            action.dial.append(candidate.address)
            slots -= 1
        }
        return action
    }

    /// The redial delay after `failures` failures: 1 s doubling, at most 5 minutes.
    static func backoff(failures: Int) -> TimeInterval {
        min(Self.maximumBackoff, Self.initialBackoff * pow(2, Double(min(failures, 20))))
    }
}
