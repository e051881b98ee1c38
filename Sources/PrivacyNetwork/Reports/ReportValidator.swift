public import PrivacyCore

/// Admission of received report bytes (privacy-design.md, "Envelope"): size, layout, network parameters, epoch
/// (current or previous) and proof of work, with duplicates ignored.
///
/// Proof-of-work verification (one scrypt call, about 16 ms at the public network's cost) is the only costly
/// step, so it runs last and only once per content id: accepted ids answer ``ReportVerdict/ignore(duplicateOf:)``
/// and ids whose work failed answer the cached rejection. Both caches are bounded (oldest forgotten first).
///
/// Use one validator per path a report can arrive on (gossip, stem, sync): a report relayed on the stem must
/// still be accepted, and therefore forwarded, when it later arrives in gossip.
///
/// For callers that must not hold a lock during scrypt, the work is split into ``precheck(_:currentEpoch:)``,
/// ``verifyWork(of:parameters:)`` (pure, static) and ``complete(_:id:workRejection:)``;
/// ``validate(_:currentEpoch:)`` runs all three. ``SharedReportValidator`` does this behind a mutex.
public struct ReportValidator: Sendable {
    /// The outcome of the cheap checks.
    public enum Precheck: Hashable, Sendable {
        /// Decided without proof-of-work verification.
        case decided(ReportVerdict)
        /// A well-formed envelope of an allowed epoch, new to this validator: verify its work.
        case needsWork(ReportEnvelope, id: ReportID)
    }

    /// The default bound of each cache.
    public static let defaultCacheCapacity = 16_384

    /// The network whose reports are admitted.
    public let parameters: NetworkParameters
    private var accepted: BoundedCache<ReportID, Void>
    private var failedWork: BoundedCache<ReportID, Int>
    /// How many proof-of-work verifications ran (each one scrypt call).
    public private(set) var workVerifications = 0

    /// A validator for `parameters`, remembering up to `cacheCapacity` accepted and as many failed ids.
    public init(parameters: NetworkParameters, cacheCapacity: Int = Self.defaultCacheCapacity) {
        self.parameters = parameters
        self.accepted = BoundedCache(capacity: cacheCapacity)
        self.failedWork = BoundedCache(capacity: cacheCapacity)
    }

    /// Validates `bytes` completely (including proof of work) for a node whose epoch is `currentEpoch`.
    public mutating func validate(_ bytes: some Collection<UInt8>, currentEpoch: UInt32) -> ReportVerdict {
        switch self.precheck(bytes, currentEpoch: currentEpoch) {
        case .decided(let verdict):
            return verdict
        case .needsWork(let envelope, let id):
            let rejection = Self.verifyWork(of: envelope, parameters: self.parameters)
            return self.complete(envelope, id: id, workRejection: rejection)
        }
    }

    /// The cheap checks: size, duplicate, layout and parameters, epoch, known bad work.
    public mutating func precheck(_ bytes: some Collection<UInt8>, currentEpoch: UInt32) -> Precheck {
        guard bytes.count == ReportEnvelope.size else {
            return .decided(.reject(.wrongSize(bytes.count)))
        }
        let id = ReportID(data: bytes)
        if self.accepted.contains(id) {
            return .decided(.ignore(duplicateOf: id))
        }
        let envelope: ReportEnvelope
        do {
            envelope = try ReportEnvelope(decoding: bytes)
        } catch {
            return .decided(.reject(ReportRejection(error)))
        }
        let epoch = envelope.epoch
        guard Self.isInEpochWindow(epoch, current: currentEpoch) else {
            return .decided(.reject(.wrongEpoch(epoch: epoch, current: currentEpoch)))
        }
        if let bits = self.failedWork[id] {
            return .decided(.reject(.tooLittleWork(leadingZeroBits: bits, required: self.parameters.difficultyBits)))
        }
        return .needsWork(envelope, id: id)
    }

    /// Whether a report of `epoch` may be admitted by a node whose epoch is `current`: the current or the previous one.
    public static func isInEpochWindow(_ epoch: UInt32, current: UInt32) -> Bool {
        epoch == current || (current > 0 && epoch == current - 1)
    }

    /// Verifies an envelope's proof of work: nil if it is enough. One scrypt call; safe to run anywhere.
    public static func verifyWork(of envelope: ReportEnvelope, parameters: NetworkParameters) -> ReportRejection? {
        let bits = ProofOfWork.leadingZeroBits(of: ProofOfWork.work(for: envelope, parameters: parameters))
        guard bits >= parameters.difficultyBits else {
            return .tooLittleWork(leadingZeroBits: bits, required: parameters.difficultyBits)
        }
        return nil
    }

    /// Records the result of ``verifyWork(of:parameters:)`` for an envelope that ``precheck(_:currentEpoch:)``
    /// passed, and returns the verdict.
    public mutating func complete(
        _ envelope: ReportEnvelope,
        id: ReportID,
        workRejection: ReportRejection?
    ) -> ReportVerdict {
        self.workVerifications += 1
        if let workRejection {
            if case .tooLittleWork(let bits, _) = workRejection {
                self.failedWork.insert(id, bits)
            }
            return .reject(workRejection)
        }
        guard self.accepted.insert(id, ()) else {
            // Another caller verified the same report meanwhile.
            return .ignore(duplicateOf: id)
        }
        return .accept(envelope, id: id)
    }

    /// Marks a report as already accepted (for example this node's own report), so it is ignored when it arrives.
    public mutating func markAccepted(_ id: ReportID) {
        self.accepted.insert(id, ())
    }

    /// Whether `id` was accepted (and is still remembered).
    public func hasAccepted(_ id: ReportID) -> Bool {
        self.accepted.contains(id)
    }
}
