public import PrivacyCore
import Synchronization

/// A ``ReportValidator`` shared by concurrent stream handlers: the cheap checks and the caches sit behind a
/// `Mutex`; proof-of-work verification runs outside it, on the calling task.
///
/// A report whose work another caller is verifying right now is a duplicate for the second caller: concurrent sync
/// fetches from several peers (which answer in the same order) share the work instead of repeating it.
public final class SharedReportValidator: Sendable {
    private struct State {
        var validator: ReportValidator
        /// Reports whose work a caller is verifying now.
        var inFlight: Set<ReportID> = []
    }

    private let state: Mutex<State>
    /// The network whose reports are admitted.
    public let parameters: NetworkParameters

    /// Remembered proof-of-work verdicts, shared with other validators (nil: every new report's work is verified).
    public let workVerdicts: WorkVerdictCache?

    /// A shared validator for `parameters`, taking proof-of-work verdicts from `workVerdicts` when given.
    public init(
        parameters: NetworkParameters,
        cacheCapacity: Int = ReportValidator.defaultCacheCapacity,
        workVerdicts: WorkVerdictCache? = nil
    ) {
        self.parameters = parameters
        self.workVerdicts = workVerdicts
        self.state = Mutex(State(validator: ReportValidator(parameters: parameters, cacheCapacity: cacheCapacity)))
    }

    /// Validates `bytes` for a node whose epoch is `currentEpoch` (blocks the caller for one scrypt call when the
    /// report is new and nobody else is verifying it).
    public func validate(_ bytes: [UInt8], currentEpoch: UInt32) -> ReportVerdict {
        let precheck = self.state.withLock { state -> ReportValidator.Precheck in
            let precheck = state.validator.precheck(bytes, currentEpoch: currentEpoch)
            if case .needsWork(_, let id) = precheck, !state.inFlight.insert(id).inserted {
                return .decided(.ignore(duplicateOf: id))
            }
            return precheck
        }
        switch precheck {
        case .decided(let verdict):
            return verdict
        case .needsWork(let envelope, let id):
            let rejection: ReportRejection?
            if let workVerdicts = self.workVerdicts {
                rejection = workVerdicts.verifyWork(of: envelope, id: id, parameters: self.parameters)
            } else {
                rejection = ReportValidator.verifyWork(of: envelope, parameters: self.parameters)
            }
            return self.state.withLock { state in
                state.inFlight.remove(id)
                return state.validator.complete(envelope, id: id, workRejection: rejection)
            }
        }
    }

    /// Marks a report as already accepted.
    public func markAccepted(_ id: ReportID) {
        self.state.withLock { $0.validator.markAccepted(id) }
    }

    /// Whether `id` was accepted (and is still remembered).
    public func hasAccepted(_ id: ReportID) -> Bool {
        self.state.withLock { $0.validator.hasAccepted(id) }
    }

    /// How many proof-of-work verifications ran.
    public var workVerifications: Int {
        self.state.withLock { $0.validator.workVerifications }
    }
}
