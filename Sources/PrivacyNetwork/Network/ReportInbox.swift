import Crypto
import PrivacyCore

/// The reports this node admitted, per epoch (current and previous only, memory only).
///
/// Admission is the receiving side of privacy-design.md's "Envelope": exact size, decoding, the network's
/// parameters and epoch window, and the proof of work; duplicates (same SHA-256 of the bytes) are ignored
/// before the costly work check.
struct ReportInbox {
    /// The most envelopes kept per epoch.
    static let maximumPerEpoch = 200_000

    /// The outcome of one admission.
    enum Outcome: Hashable {
        /// Admitted (new).
        case accepted(ReportEnvelope, contentID: [UInt8])
        /// Already known.
        case duplicate
        /// Rejected, with the reason.
        case rejected(String)
    }

    let parameters: NetworkParameters
    private var byEpoch: [UInt32: [[UInt8]: ReportEnvelope]] = [:]

    init(parameters: NetworkParameters) {
        self.parameters = parameters
    }

    /// The content ID of an envelope: SHA-256 of its bytes (the GossipSub message ID too).
    static func contentID(of bytes: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }

    /// Whether an envelope with this content ID is held.
    func contains(_ contentID: [UInt8]) -> Bool {
        self.byEpoch.values.contains { $0[contentID] != nil }
    }

    /// Admits `bytes` against `currentEpoch`.
    mutating func admit(_ bytes: [UInt8], currentEpoch: UInt32) -> Outcome {
        guard bytes.count == ReportEnvelope.size else {
            return .rejected("an envelope is \(ReportEnvelope.size) bytes, got \(bytes.count)")
        }
        let contentID = Self.contentID(of: bytes)
        if self.contains(contentID) { return .duplicate }
        let envelope: ReportEnvelope
        do {
            envelope = try ReportEnvelope(decoding: bytes)
            try envelope.validate(parameters: self.parameters, currentEpoch: currentEpoch)
        } catch {
            return .rejected("\(error)")
        }
        guard (self.byEpoch[envelope.epoch]?.count ?? 0) < Self.maximumPerEpoch else {
            return .rejected("epoch \(envelope.epoch) holds the most reports kept")
        }
        self.byEpoch[envelope.epoch, default: [:]][contentID] = envelope
        return .accepted(envelope, contentID: contentID)
    }

    /// The admitted reports of `epoch`.
    func reports(of epoch: UInt32) -> [WireReport] {
        (self.byEpoch[epoch] ?? [:]).values.map(\.report)
    }

    /// The number of admitted reports of `epoch`.
    func count(of epoch: UInt32) -> Int { self.byEpoch[epoch]?.count ?? 0 }

    /// Up to `limit` envelopes of `epochs`, encoded, for a sync response.
    func envelopes(of epochs: [UInt32], limit: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for epoch in Set(epochs).sorted() {
            for envelope in (self.byEpoch[epoch] ?? [:]).values {
                guard out.count < limit else { return out }
                out.append(envelope.encode())
            }
        }
        return out
    }

    /// Drops every epoch other than `currentEpoch` and the one before it.
    mutating func rollOver(currentEpoch: UInt32) {
        let keep = currentEpoch == 0 ? [currentEpoch] : [currentEpoch, currentEpoch - 1]
        self.byEpoch = self.byEpoch.filter { keep.contains($0.key) }
    }
}
