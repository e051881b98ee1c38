public import PrivacyCore

/// An envelope that passed every check of a ``ReportValidator``, proof of work included, for the epoch the
/// validator was asked about.
///
/// Proof-of-work verification (scrypt) is the only costly admission step, so it runs once, where the report
/// arrives (a stream handler, a sync fetch, the GossipSub validator), off the network's actor; the network then
/// admits the verified report with its cheap checks only (its own epoch window and duplicates).
public struct VerifiedReport: Hashable, Sendable {
    /// The verified envelope.
    public let envelope: ReportEnvelope
    /// Its content id.
    public let id: ReportID

    /// A report whose envelope `id` names; only code that verified the work (or minted it) creates one.
    package init(envelope: ReportEnvelope, id: ReportID) {
        self.envelope = envelope
        self.id = id
    }
}

extension ReportVerdict {
    /// The verified report of an ``accept(_:id:)`` verdict, `nil` otherwise.
    public var verifiedReport: VerifiedReport? {
        guard case .accept(let envelope, let id) = self else { return nil }
        return VerifiedReport(envelope: envelope, id: id)
    }
}
