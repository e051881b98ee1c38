public import PrivacyCore

/// Why a node refuses a report it received (privacy-design.md, "Envelope": admission). Every rejection is the
/// sender's fault, so the caller lowers the sending peer's score or drops the peer.
public enum ReportRejection: Hashable, Sendable, CustomStringConvertible {
    /// Not exactly 512 bytes.
    case wrongSize(Int)
    /// 512 bytes that are not a well-formed v1 envelope (magic, type, value, padding).
    case malformed(ReportEnvelopeError)
    /// A well-formed envelope made for other network parameters: another protocol version, randomizer or ε.
    /// (Work minted with another network's digest cannot be told apart from too little work.)
    case wrongParameters(ReportEnvelopeError)
    /// Too little proof of work for this network's difficulty (or work bound to another network's digest).
    case tooLittleWork(leadingZeroBits: Int, required: Int)
    /// Not from the current or the previous epoch.
    case wrongEpoch(epoch: UInt32, current: UInt32)

    /// Whether this is a report from just outside the epoch window: the epoch before the previous one (an honest
    /// report delayed across an epoch boundary on its way here) or the next one (a sender whose clock runs slightly
    /// ahead). Such a report is dropped without blaming the peer that forwarded it; on a demo network with
    /// 10-second epochs this happens to honest peers every epoch.
    public var isNearEpochWindow: Bool {
        guard case .wrongEpoch(let epoch, let current) = self else { return false }
        return epoch == current &+ 1 || (current >= 2 && epoch == current - 2)
    }

    /// A short stable name for logs and counters.
    public var name: String {
        switch self {
        case .wrongSize: "wrong_size"
        case .malformed: "malformed"
        case .wrongParameters: "wrong_parameters"
        case .tooLittleWork: "too_little_work"
        case .wrongEpoch: "wrong_epoch"
        }
    }

    public var description: String {
        switch self {
        case .wrongSize(let count): "report: expected \(ReportEnvelope.size) bytes, got \(count)"
        case .malformed(let error): "report malformed: \(error)"
        case .wrongParameters(let error): "report made for other network parameters: \(error)"
        case .tooLittleWork(let bits, let required):
            "report: proof of work has \(bits) leading zero bits, \(required) required"
        case .wrongEpoch(let epoch, let current):
            "report: epoch \(epoch) is neither the current epoch \(current) nor the previous one"
        }
    }

    /// Hashes the kind of rejection (consistent with `==`: equal rejections have equal names).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.name)
    }

    /// Classifies an envelope decoding error.
    init(_ error: ReportEnvelopeError) {
        switch error {
        case .wrongLength(let count): self = .wrongSize(count)
        case .unsupportedVersion, .unknownRandomizer, .epsilonMismatch: self = .wrongParameters(error)
        case .badMagic, .unknownReportType, .valueOutOfDomain, .unusedValueByteNotZero, .nonZeroPadding:
            self = .malformed(error)
        }
    }
}

/// What a node does with received report bytes.
public enum ReportVerdict: Hashable, Sendable {
    /// A valid report seen for the first time: keep it, relay it.
    case accept(ReportEnvelope, id: ReportID)
    /// An invalid report: drop it and penalise the sender.
    case reject(ReportRejection)
    /// A valid report already accepted: drop it silently (no penalty).
    case ignore(duplicateOf: ReportID)
}
