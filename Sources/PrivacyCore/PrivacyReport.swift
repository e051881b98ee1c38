/// The local input, as the privacy tool measured it. Never leaves the device.
/// JSON format: docs/privacy-report.schema.json; example: examples/report.json.
public struct PrivacyReport: Hashable, Sendable {
    /// One tracker the privacy tool saw on a site.
    public struct TrackerEvent: Hashable, Sendable {
        public var trackerDomain: String
        public var trackerCategory: TrackerCategory
        public var riskLevel: RiskLevel
        public var siteCategory: WebsiteCategory
        /// Seconds since 1970-01-01 UTC.
        public var time: Double

        public init(
            trackerDomain: String,
            trackerCategory: TrackerCategory,
            riskLevel: RiskLevel,
            siteCategory: WebsiteCategory,
            time: Double
        ) {
            self.trackerDomain = trackerDomain
            self.trackerCategory = trackerCategory
            self.riskLevel = riskLevel
            self.siteCategory = siteCategory
            self.time = time
        }
    }

    /// Overall privacy score, 0–100.
    public var score: Int
    public var events: [TrackerEvent]
    public var tools: Set<ProtectionTool>
    public var region: Region?

    public init(score: Int, events: [TrackerEvent], tools: Set<ProtectionTool>, region: Region?) {
        self.score = score
        self.events = events
        self.tools = tools
        self.region = region
    }

    public var grade: Grade { Grade(score: self.score) }
}
