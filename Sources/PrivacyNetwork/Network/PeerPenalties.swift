import Foundation
public import NIOCore

/// A per-peer misbehaviour score (issue 5, "Bad input": every malformed stem, sync or gossip message is rejected
/// and its sender penalised), as a pure machine: no I/O, no clock, no logging.
///
/// Each offence adds its ``Offence/weight`` to the peer's score, which halves every
/// ``Configuration/halfLife`` (an honest peer that once relayed a late report is forgiven). When the score reaches
/// ``Configuration/disconnectThreshold`` the verdict is to disconnect the peer and refuse it until
/// ``Configuration/blockDuration`` has passed. With the defaults four grossly malformed messages in a few minutes
/// cost a peer its connection for an hour; ten reports from the wrong epoch do the same.
///
/// `Peer` is the peer identifier (`PeerID` on the network, an integer in tests).
public struct PeerPenalties<Peer: Hashable & Sendable>: Sendable {
    /// The thresholds and timings.
    public struct Configuration: Hashable, Sendable {
        /// The score at which a peer is disconnected and blocked.
        public var disconnectThreshold: Double
        /// The time in which a score halves.
        public var halfLife: TimeAmount
        /// How long a disconnected peer is refused.
        public var blockDuration: TimeAmount
        /// How many peers are tracked at most; beyond, the lowest score that is not blocked is forgotten.
        public var capacity: Int

        /// The defaults: disconnect at 100, a 10-minute half-life, a one-hour block, 4,096 peers.
        public init(
            disconnectThreshold: Double = 100,
            halfLife: TimeAmount = .minutes(10),
            blockDuration: TimeAmount = .hours(1),
            capacity: Int = 4096
        ) {
            self.disconnectThreshold = max(1, disconnectThreshold)
            self.halfLife = max(halfLife, .milliseconds(1))
            self.blockDuration = blockDuration
            self.capacity = max(1, capacity)
        }
    }

    /// What a peer did wrong.
    public enum Offence: Hashable, Sendable {
        /// It sent report bytes that admission refused (on gossip, the stem or in a sync response); `nil` when
        /// the reason is not known.
        case invalidReport(ReportRejection?)
        /// A stem or sync stream from it broke the protocol: too large, malformed, or too slow.
        case badStream(PrivacyNetworkError.Code)
        /// A gossip message broke the topic's rules before validation (a `from`, `seqno`, `signature` or `key`
        /// on the StrictNoSign report topic).
        case gossipRuleBroken

        /// How much the offence adds to the score. Grossly malformed input weighs most; what an honest peer can
        /// send by accident (a report from an epoch outside the window, another network's parameters, a slow
        /// stream) weighs less; a report from just outside the window (``ReportRejection/isNearEpochWindow``) and a
        /// failed stream are not offences.
        public var weight: Double {
            switch self {
            case .invalidReport(let rejection?) where rejection.isNearEpochWindow:
                0
            case .invalidReport(let rejection?):
                switch rejection {
                case .wrongEpoch, .wrongParameters: 10
                case .wrongSize, .malformed, .tooLittleWork: 25
                }
            case .invalidReport(nil): 10
            case .badStream(.messageTooLarge): 50
            case .badStream(.malformedMessage): 25
            case .badStream(.timedOut): 10
            case .badStream: 0
            case .gossipRuleBroken: 25
            }
        }

        /// A short stable name for logs.
        public var name: String {
            switch self {
            case .invalidReport(let rejection?): rejection.name
            case .invalidReport(nil): "invalid_report"
            case .badStream(.messageTooLarge): "message_too_large"
            case .badStream(.malformedMessage): "malformed_message"
            case .badStream(.timedOut): "timed_out"
            case .badStream: "stream_failed"
            case .gossipRuleBroken: "gossip_rule_broken"
            }
        }
    }

    /// What to do about the peer after an offence.
    public enum Verdict: Hashable, Sendable {
        /// Keep the peer; its score is now `score`.
        case tolerate(score: Double)
        /// The score reached the threshold: disconnect the peer and refuse it until `until`.
        case disconnect(until: NIODeadline)
        /// The peer is blocked already (it is still connected, or sent this before the disconnection took effect).
        case alreadyBlocked(until: NIODeadline)
    }

    private struct Record: Sendable {
        var score: Double
        var updated: NIODeadline
        var blockedUntil: NIODeadline?
    }

    /// The parameters.
    public let configuration: Configuration
    private var records: [Peer: Record] = [:]

    /// A machine with no records.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Records an offence by `peer`.
    public mutating func offence(_ offence: Offence, by peer: Peer, now: NIODeadline) -> Verdict {
        var record = self.records[peer].map { self.decayed($0, to: now) } ?? Record(score: 0, updated: now)
        if let until = record.blockedUntil, now < until {
            self.records[peer] = record
            return .alreadyBlocked(until: until)
        }
        record.blockedUntil = nil
        record.score += offence.weight
        let verdict: Verdict
        if record.score >= self.configuration.disconnectThreshold {
            let until = now + self.configuration.blockDuration
            record.blockedUntil = until
            // A blocked peer starts from zero when its block ends.
            record.score = 0
            verdict = .disconnect(until: until)
        } else {
            verdict = .tolerate(score: record.score)
        }
        self.records[peer] = record
        self.evictIfNeeded(keeping: peer)
        return verdict
    }

    /// Whether `peer` is refused now.
    public func isBlocked(_ peer: Peer, now: NIODeadline) -> Bool {
        guard let until = self.records[peer]?.blockedUntil else { return false }
        return now < until
    }

    /// The peer's current score (0 for a peer with no record).
    public func score(of peer: Peer, now: NIODeadline) -> Double {
        self.records[peer].map { self.decayed($0, to: now).score } ?? 0
    }

    /// The number of peers with a record.
    public var trackedPeers: Int { self.records.count }

    private func decayed(_ record: Record, to now: NIODeadline) -> Record {
        guard now > record.updated else { return record }
        let elapsed = Double((now - record.updated).nanoseconds)
        let halfLife = Double(self.configuration.halfLife.nanoseconds)
        var record = record
        record.score *= pow(0.5, elapsed / halfLife)
        if record.score < 0.01 { record.score = 0 }
        record.updated = now
        return record
    }

    private mutating func evictIfNeeded(keeping peer: Peer) {
        guard self.records.count > self.configuration.capacity else { return }
        let candidate = self.records.filter { $0.key != peer && $0.value.blockedUntil == nil }
            .min { $0.value.score < $1.value.score }
        if let candidate {
            self.records[candidate.key] = nil
        } else if let any = self.records.first(where: { $0.key != peer }) {
            self.records[any.key] = nil
        }
    }
}
