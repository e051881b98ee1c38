public import PrivacyCore
import Synchronization

/// A ``ReportValidator`` shared by concurrent stream handlers: the cheap checks and the caches sit behind a
/// `Mutex`; proof-of-work verification runs outside it, on the calling task.
public final class SharedReportValidator: Sendable {
    private let validator: Mutex<ReportValidator>
    /// The network whose reports are admitted.
    public let parameters: NetworkParameters

    /// A shared validator for `parameters`.
    public init(parameters: NetworkParameters, cacheCapacity: Int = ReportValidator.defaultCacheCapacity) {
        self.parameters = parameters
        self.validator = Mutex(ReportValidator(parameters: parameters, cacheCapacity: cacheCapacity))
    }

    /// Validates `bytes` for a node whose epoch is `currentEpoch` (blocks the caller for one scrypt call when the
    /// report is new).
    public func validate(_ bytes: [UInt8], currentEpoch: UInt32) -> ReportVerdict {
        let precheck = self.validator.withLock { $0.precheck(bytes, currentEpoch: currentEpoch) }
        switch precheck {
        case .decided(let verdict):
            return verdict
        case .needsWork(let envelope, let id):
            let rejection = ReportValidator.verifyWork(of: envelope, parameters: self.parameters)
            return self.validator.withLock { $0.complete(envelope, id: id, workRejection: rejection) }
        }
    }

    /// Marks a report as already accepted.
    public func markAccepted(_ id: ReportID) {
        self.validator.withLock { $0.markAccepted(id) }
    }

    /// How many proof-of-work verifications ran.
    public var workVerifications: Int {
        self.validator.withLock { $0.workVerifications }
    }
}
