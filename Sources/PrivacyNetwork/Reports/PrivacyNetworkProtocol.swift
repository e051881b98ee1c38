/// The names the community network uses on libp2p (privacy-design.md, "Envelope" and "Who sees the author").
public enum PrivacyNetworkProtocol {
    /// The GossipSub topic that carries report envelopes (StrictNoSign, message id = SHA-256 of the data).
    public static let reportTopic = "/phantom-trail/reports/1"
    /// The Dandelion++ stem relay protocol: one stream per report, carrying exactly one 512-byte envelope.
    public static let stem = "/phantom-trail/stem/1.0.0"
    /// The catch-up sync protocol: one request, one bounded list of envelopes in answer.
    public static let sync = "/phantom-trail/sync/1.0.0"
}
