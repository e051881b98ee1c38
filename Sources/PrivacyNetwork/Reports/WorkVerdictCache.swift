public import PrivacyCore
import Synchronization

/// Remembers proof-of-work verdicts by report id, so that validators sharing it check each report's work once.
///
/// A report id is the SHA-256 of the whole envelope, and the verdict depends only on the envelope and the network
/// parameters, so a remembered verdict is as good as a new scrypt call. One transport's stem, gossip and sync
/// validators share one cache (a relay sees a report on the stem and again in gossip); the demo's nodes in one
/// process share one too (each report's work is checked once in the process, not once per node). Only verdicts are
/// shared: which reports a node accepted stays each validator's own. Bounded; the oldest verdicts are forgotten
/// first.
public final class WorkVerdictCache: Sendable {
    /// The network whose parameters the verdicts were reached under.
    public let parameters: NetworkParameters
    private enum Verdict: Sendable {
        case enough
        case tooLittle(leadingZeroBits: Int)
    }

    private let verdicts: Mutex<BoundedCache<ReportID, Verdict>>
    private let verifications = Atomic<Int>(0)

    /// An empty cache for `parameters`'s reports, remembering at most `capacity` verdicts.
    public init(parameters: NetworkParameters, capacity: Int = ReportValidator.defaultCacheCapacity) {
        self.parameters = parameters
        self.verdicts = Mutex(BoundedCache(capacity: capacity))
    }

    /// The proof-of-work verdict on `envelope` (whose id is `id`) under `parameters`: nil if its work is enough.
    /// A remembered verdict is returned at once; otherwise one scrypt call runs, without holding the lock. A
    /// caller with other parameters gets a verdict computed for it and nothing is remembered.
    public func verifyWork(of envelope: ReportEnvelope, id: ReportID, parameters: NetworkParameters) -> ReportRejection?
    {
        guard parameters == self.parameters else {
            return ReportValidator.verifyWork(of: envelope, parameters: parameters)
        }
        if let remembered = self.verdicts.withLock({ $0[id] }) {
            return Self.rejection(remembered, parameters: parameters)
        }
        let rejection = ReportValidator.verifyWork(of: envelope, parameters: parameters)
        self.verifications.add(1, ordering: .relaxed)
        let verdict: Verdict =
            if case .tooLittleWork(let bits, _) = rejection { .tooLittle(leadingZeroBits: bits) } else { .enough }
        self.verdicts.withLock { _ = $0.insert(id, verdict) }
        return rejection
    }

    /// How many scrypt calls this cache made.
    public var workVerifications: Int { self.verifications.load(ordering: .relaxed) }

    private static func rejection(_ verdict: Verdict, parameters: NetworkParameters) -> ReportRejection? {
        switch verdict {
        case .enough: nil
        case .tooLittle(let bits): .tooLittleWork(leadingZeroBits: bits, required: parameters.difficultyBits)
        }
    }
}
