import Foundation
public import NIOCore
public import PrivacyCore

/// The Dandelion++ stem relay of one node (privacy-design.md, "Who sees the author"; Fanti et al., "Dandelion++:
/// Lightweight Cryptocurrency Networking with Formal Anonymity Guarantees", 2018, algorithms 2–5), as a pure
/// machine: no I/O, no clock, no logging. Time (`now`) and randomness (`rng`) are passed in.
///
/// - Stem epochs: at the first event of each ``StemRelayConfiguration/stemEpochLength`` the node draws up to
///   ``StemRelayConfiguration/relayCount`` relays among its *outbound* connected peers, and whether it is a
///   diffuser for the epoch (probability ``StemRelayConfiguration/fluffProbability``: one choice per node per
///   epoch, as the paper recommends). A relay that disconnects is replaced at once by another outbound peer.
///   Connection events alone do not start the first epoch: a report or ``tick(now:using:)`` does.
/// - Pseudorandom forwarding: each incoming edge (each peer that hands us stem reports, and our own reports as
///   one more edge) is mapped to one relay for the whole epoch.
/// - A diffuser fluffs (publishes to gossip) every stem report it receives; other nodes forward it on the stem.
/// - Embargo: every holder of a stem report starts an exponential timer; if the report has not been seen in
///   gossip when it fires, the holder fluffs it itself.
/// - The author never fluffs first: its own report always goes to a relay. With no relay it waits for one
///   (sent as soon as an outbound peer connects) until its embargo fires.
///
/// `Peer` is the peer identifier (`PeerID` on the network, an integer in ``DandelionSimulation``).
public struct StemRelayStateMachine<Peer: Hashable & Sendable>: Sendable {
    /// What the driver must do after an event.
    public enum Action: Equatable, Sendable {
        /// Send the report on a stem stream to `peer`.
        case sendStem(ReportEnvelope, id: ReportID, to: Peer)
        /// Publish the report to gossip (the fluff phase).
        case fluff(ReportEnvelope, id: ReportID)
        /// Start (or restart) the embargo timer of `id`; call ``embargoExpired(_:now:)`` when it fires.
        case scheduleEmbargo(ReportID, at: NIODeadline)
        /// Stop the embargo timer of `id`.
        case cancelEmbargo(ReportID)
    }

    /// An incoming edge of the anonymity graph: our own reports, or one peer's.
    private enum Edge: Hashable, Sendable {
        case own
        case inbound(Peer)
    }

    /// The routing of the current stem epoch.
    private struct Epoch: Sendable {
        /// When the epoch ends.
        var endsAt: NIODeadline
        /// The chosen relays (outbound peers), at most ``StemRelayConfiguration/relayCount``.
        var relays: [Peer]
        /// Whether this node fluffs every stem report it receives during the epoch.
        var isDiffuser: Bool
        /// The relay each incoming edge forwards to.
        var routes: [Edge: Peer]
    }

    /// A report this node holds on the stem, with its embargo deadline.
    private struct Held: Sendable {
        var envelope: ReportEnvelope
        var deadline: NIODeadline
        /// An own report not yet handed to a relay (none was connected).
        var awaitingRelay: Bool
    }

    /// The parameters.
    public let configuration: StemRelayConfiguration
    private var outboundPeers: [Peer] = []
    private var epoch: Epoch?
    private var held: [ReportID: Held] = [:]
    private var heldOrder: [ReportID] = []
    private var seen: BoundedCache<ReportID, Void>

    /// A machine with no peers; the first stem epoch starts with the first event.
    public init(configuration: StemRelayConfiguration) {
        self.configuration = configuration
        self.seen = BoundedCache(capacity: configuration.seenCapacity)
    }

    // MARK: Inspection

    /// The relays of the current stem epoch.
    public var relays: [Peer] { self.epoch?.relays ?? [] }
    /// Whether this node is a diffuser in the current stem epoch.
    public var isDiffuser: Bool { self.epoch?.isDiffuser ?? false }
    /// The outbound peers relays are chosen from, in connection order.
    public var outboundCandidates: [Peer] { self.outboundPeers }
    /// The number of reports held on the stem (embargo running).
    public var heldCount: Int { self.held.count }
    /// The relay that reports arriving from `peer` go to in this epoch, once one was used.
    public func route(from peer: Peer) -> Peer? { self.epoch?.routes[.inbound(peer)] }
    /// The relay this node's own reports go to in this epoch, once one was used.
    public var ownRoute: Peer? { self.epoch?.routes[.own] }

    // MARK: Events

    /// A connection to `peer` is up. Only outbound connections (we dialled) can become relays.
    public mutating func peerConnected(
        _ peer: Peer,
        isOutbound: Bool,
        now: NIODeadline,
        using rng: inout some RandomNumberGenerator
    ) -> [Action] {
        if isOutbound && !self.outboundPeers.contains(peer) {
            self.outboundPeers.append(peer)
        }
        // Connections alone do not start the first epoch, so its relays are drawn among all the peers connected
        // by the first report (not simply the first two to connect, such as bootstrap nodes).
        guard self.epoch != nil else { return [] }
        var actions = self.rollEpochIfDue(now: now, using: &rng)
        self.fillRelays(using: &rng)
        actions += self.sendAwaiting(using: &rng)
        return actions
    }

    /// The last connection to `peer` closed: it stops being a candidate, and if it was a relay another outbound
    /// peer replaces it (routes through it are drawn again).
    public mutating func peerDisconnected(
        _ peer: Peer,
        now: NIODeadline,
        using rng: inout some RandomNumberGenerator
    ) -> [Action] {
        self.outboundPeers.removeAll { $0 == peer }
        var actions = self.rollEpochIfDue(now: now, using: &rng)
        if var epoch = self.epoch {
            epoch.relays.removeAll { $0 == peer }
            epoch.routes = epoch.routes.filter { edge, relay in relay != peer && edge != .inbound(peer) }
            self.epoch = epoch
        }
        self.fillRelays(using: &rng)
        actions += self.sendAwaiting(using: &rng)
        return actions
    }

    /// This node's own report, to be sent on the stem (never fluffed first).
    public mutating func ownReport(
        _ envelope: ReportEnvelope,
        id: ReportID,
        now: NIODeadline,
        using rng: inout some RandomNumberGenerator
    ) -> [Action] {
        var actions = self.rollEpochIfDue(now: now, using: &rng)
        guard self.held[id] == nil, !self.seen.contains(id) else { return actions }
        let deadline = now + self.embargo(using: &rng)
        actions.append(.scheduleEmbargo(id, at: deadline))
        if let relay = self.relay(for: .own, using: &rng) {
            self.hold(id, Held(envelope: envelope, deadline: deadline, awaitingRelay: false))
            actions.append(.sendStem(envelope, id: id, to: relay))
        } else {
            self.hold(id, Held(envelope: envelope, deadline: deadline, awaitingRelay: true))
        }
        return actions
    }

    /// A validated report arrived on a stem stream from `peer`.
    public mutating func stemReceived(
        _ envelope: ReportEnvelope,
        id: ReportID,
        from peer: Peer,
        now: NIODeadline,
        using rng: inout some RandomNumberGenerator
    ) -> [Action] {
        var actions = self.rollEpochIfDue(now: now, using: &rng)
        guard self.held[id] == nil, !self.seen.contains(id) else { return actions }
        guard let epoch = self.epoch, !epoch.isDiffuser, let relay = self.relay(for: .inbound(peer), using: &rng)
        else {
            // A diffuser fluffs; so does a node with no relay to forward to.
            self.seen.insert(id, ())
            actions.append(.fluff(envelope, id: id))
            return actions
        }
        let deadline = now + self.embargo(using: &rng)
        self.hold(id, Held(envelope: envelope, deadline: deadline, awaitingRelay: false))
        actions.append(.sendStem(envelope, id: id, to: relay))
        actions.append(.scheduleEmbargo(id, at: deadline))
        return actions
    }

    /// The report `id` arrived in gossip: someone fluffed it, so this node's embargo stops.
    public mutating func seenInGossip(_ id: ReportID) -> [Action] {
        self.seen.insert(id, ())
        guard self.release(id) != nil else { return [] }
        return [.cancelEmbargo(id)]
    }

    /// The embargo timer of `id` fired: if the report is still held (not seen in gossip), fluff it.
    public mutating func embargoExpired(_ id: ReportID, now: NIODeadline) -> [Action] {
        guard let held = self.held[id] else { return [] }
        guard now >= held.deadline else { return [.scheduleEmbargo(id, at: held.deadline)] }
        self.release(id)
        self.seen.insert(id, ())
        return [.fluff(held.envelope, id: id)]
    }

    /// Time passed: starts a new stem epoch when the current one is over. Call it at least once per epoch
    /// (``nextEpochChange``) so relays are redrawn even when no report flows.
    public mutating func tick(now: NIODeadline, using rng: inout some RandomNumberGenerator) -> [Action] {
        self.rollEpochIfDue(now: now, using: &rng)
    }

    /// When the current stem epoch ends (nil before the first event).
    public var nextEpochChange: NIODeadline? { self.epoch?.endsAt }

    // MARK: Internals

    private mutating func rollEpochIfDue(now: NIODeadline, using rng: inout some RandomNumberGenerator) -> [Action] {
        if let epoch = self.epoch, now < epoch.endsAt { return [] }
        var candidates = self.outboundPeers
        var relays: [Peer] = []
        while relays.count < self.configuration.relayCount, !candidates.isEmpty {
            relays.append(candidates.remove(at: Int.random(in: 0..<candidates.count, using: &rng)))
        }
        let isDiffuser = Double.random(in: 0..<1, using: &rng) < self.configuration.fluffProbability
        self.epoch = Epoch(
            endsAt: now + self.configuration.stemEpochLength,
            relays: relays,
            isDiffuser: isDiffuser,
            routes: [:]
        )
        return self.sendAwaiting(using: &rng)
    }

    /// Tops the relays up from the outbound peers that are not relays yet.
    private mutating func fillRelays(using rng: inout some RandomNumberGenerator) {
        guard var epoch = self.epoch else { return }
        var candidates = self.outboundPeers.filter { !epoch.relays.contains($0) }
        while epoch.relays.count < self.configuration.relayCount, !candidates.isEmpty {
            epoch.relays.append(candidates.remove(at: Int.random(in: 0..<candidates.count, using: &rng)))
        }
        self.epoch = epoch
    }

    /// The relay of an edge for this epoch, drawn on first use. A peer's reports are not routed back to it
    /// when another relay exists.
    private mutating func relay(for edge: Edge, using rng: inout some RandomNumberGenerator) -> Peer? {
        guard var epoch = self.epoch, !epoch.relays.isEmpty else { return nil }
        if let existing = epoch.routes[edge] { return existing }
        var choices = epoch.relays
        if case .inbound(let sender) = edge, choices.count > 1 {
            choices.removeAll { $0 == sender }
        }
        let relay = choices[Int.random(in: 0..<choices.count, using: &rng)]
        epoch.routes[edge] = relay
        self.epoch = epoch
        return relay
    }

    /// Sends the own reports that waited for a relay, if one is available now.
    private mutating func sendAwaiting(using rng: inout some RandomNumberGenerator) -> [Action] {
        let waiting = self.heldOrder.filter { self.held[$0]?.awaitingRelay == true }
        guard !waiting.isEmpty, let relay = self.relay(for: .own, using: &rng) else { return [] }
        var actions: [Action] = []
        for id in waiting {
            guard var entry = self.held[id] else { continue }
            entry.awaitingRelay = false
            self.held[id] = entry
            actions.append(.sendStem(entry.envelope, id: id, to: relay))
        }
        return actions
    }

    private func embargo(using rng: inout some RandomNumberGenerator) -> TimeAmount {
        let unit = Double.random(in: 0..<1, using: &rng)
        let mean = Double(self.configuration.embargoMean.nanoseconds)
        return .nanoseconds(Int64((-mean * log(1 - unit)).rounded()))
    }

    private mutating func hold(_ id: ReportID, _ entry: Held) {
        self.held[id] = entry
        self.heldOrder.append(id)
    }

    @discardableResult
    private mutating func release(_ id: ReportID) -> Held? {
        guard let entry = self.held.removeValue(forKey: id) else { return nil }
        self.heldOrder.removeAll { $0 == id }
        return entry
    }
}
