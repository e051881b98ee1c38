import CommunityInsights
import Foundation
import PrivacyCore

// The JSON bodies of the API (docs/openapi.json). Domain values whose Codable form is already plain
// (Estimate, Displayed, grades, regions, tools, P2PSettings, AnonymousPrivacyData) are embedded as they
// are; everything else gets a small body type here that adds display names and the page's sentences.

/// `GET /api/v1/status`.
struct StatusBody: Encodable, Equatable {
    struct Health: Encodable, Equatable {
        /// "offline", "connecting", "weak" or "good".
        var connectivity: String
        /// Elapsed fraction of the epoch, 0–1.
        var dataFreshness: Double
        /// One sentence for the health indicator.
        var summary: String
    }

    var connectedPeers: Int
    var targetPeers: Int
    var usersReportedThisEpoch: Int
    var usersReportedInPreviousEpoch: Bool
    var network: DashboardNetworkKind
    var networkLabel: String
    var epoch: Int
    var epochLengthSeconds: Int
    var epochProgress: Double
    var lastUpdated: Date?
    var joined: Bool
    var sharing: Bool
    var statusLine: String
    var health: Health

    init(_ status: DashboardStatus) {
        self.connectedPeers = max(status.connectedPeers, 0)
        self.targetPeers = max(status.targetPeers, 0)
        self.usersReportedThisEpoch = max(status.usersReportedThisEpoch, 0)
        self.usersReportedInPreviousEpoch = status.usersReportedInPreviousEpoch
        self.network = status.network
        self.networkLabel = status.networkLabel
        self.epoch = status.epoch
        self.epochLengthSeconds = status.epochLengthSeconds
        let progress = status.epochProgress.isFinite ? min(max(status.epochProgress, 0), 1) : 0
        self.epochProgress = progress
        self.lastUpdated = status.lastUpdated
        self.joined = status.joined
        self.sharing = status.sharing
        self.statusLine = Self.statusLine(status)
        let connectivity = Self.connectivity(status)
        self.health = Health(
            connectivity: connectivity,
            dataFreshness: progress,
            summary: Self.healthSummary(connectivity: connectivity, progress: progress, status: status)
        )
    }

    /// "Connected to 12 peers · 47 users reported this week" ("last week" while the figures are the previous
    /// week's).
    static func statusLine(_ status: DashboardStatus) -> String {
        guard status.joined else { return "Not joined to the privacy network" }
        let peers = status.connectedPeers == 1 ? "1 peer" : "\(max(status.connectedPeers, 0)) peers"
        let users =
            status.usersReportedThisEpoch == 1
            ? "1 user reported" : "\(max(status.usersReportedThisEpoch, 0)) users reported"
        let which = status.usersReportedInPreviousEpoch ? "last" : "this"
        let period =
            status.epochLengthSeconds == 604_800
            ? "\(which) week"
            : status.network == .demo
                ? "\(which) demo epoch (demo epoch = \(Self.duration(seconds: status.epochLengthSeconds)))"
                : "\(which) epoch"
        return "Connected to \(peers) · \(users) \(period)"
    }

    /// "10 s", "2 min", "1 h 30 min".
    static func duration(seconds: Int) -> String {
        let seconds = max(seconds, 0)
        if seconds < 60 { return "\(seconds) s" }
        if seconds % 60 != 0 { return "\(seconds / 60) min \(seconds % 60) s" }
        let minutes = seconds / 60
        if minutes < 60 { return "\(minutes) min" }
        return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
    }

    /// Offline when not joined; connecting with no peer; good from half the connection target; weak between.
    static func connectivity(_ status: DashboardStatus) -> String {
        guard status.joined else { return "offline" }
        guard status.connectedPeers > 0 else { return "connecting" }
        let goodFrom = max(1, (status.targetPeers + 1) / 2)
        return status.connectedPeers >= goodFrom ? "good" : "weak"
    }

    private static func healthSummary(connectivity: String, progress: Double, status: DashboardStatus) -> String {
        let link =
            switch connectivity {
            case "offline": "Offline: not joined"
            case "connecting": "Looking for peers"
            case "weak": "Weak connectivity (\(status.connectedPeers) of \(status.targetPeers) peers)"
            default: "Good connectivity (\(status.connectedPeers) of \(status.targetPeers) peers)"
            }
        return "\(link) · about \(InsightTexts.whole(progress * 100))% of this epoch's reports in"
    }
}

/// A region with its display name.
struct RegionBody: Encodable, Equatable {
    var region: Region
    var name: String
    var isYou: Bool?
    var stats: Displayed<RegionalStats>
    var shareAOrB: Estimate?
    var text: String
}

/// `GET /api/v1/stats`.
struct StatsBody: Encodable, Equatable {
    var participants: Int
    var averageScore: Displayed<Estimate>
    var averageGrade: Grade?
    var medianScore: Displayed<Double>
    var gradeDistribution: Displayed<[GradeShare]>
    var regions: [RegionBody]
    var lastUpdated: Date
    var dataFreshness: Double

    init(_ stats: CommunityStats) {
        self.participants = stats.connectedPeers
        self.averageScore = stats.averageScore
        self.averageGrade = stats.averageScore.value.map { Grade(score: InsightTexts.whole($0.value)) }
        self.medianScore = stats.medianScore
        self.gradeDistribution = stats.scoreDistribution
        self.regions = stats.regionalData.map {
            RegionBody(
                region: $0.region,
                name: $0.region.displayName,
                isYou: nil,
                stats: $0.stats,
                shareAOrB: nil,
                text: InsightTexts.region($0.stats, region: $0.region)
            )
        }
        self.lastUpdated = stats.lastUpdated
        self.dataFreshness = stats.dataFreshness
    }
}

/// One recommendation with its evidence.
struct RecommendationBody: Encodable, Equatable {
    var kind: String
    var tool: ProtectionTool?
    var toolName: String?
    var evidence: Estimate
    var message: String
    var topic: EducationTopic
    var topicTitle: String

    init(_ recommendation: P2PRecommendation) {
        switch recommendation.kind {
        case .adoptTool(let tool):
            self.kind = "adopt_tool"
            self.tool = tool
            self.toolName = tool.displayName
        case .reduceTrackers:
            self.kind = "reduce_trackers"
        case .reduceRisk:
            self.kind = "reduce_risk"
        }
        self.evidence = recommendation.evidence
        self.message = recommendation.message
        self.topic = recommendation.topic
        self.topicTitle = recommendation.topic.entry.title
    }
}

/// `GET /api/v1/comparison` when a local report exists.
struct ComparisonBody: Encodable, Equatable {
    var state = "ready"
    var userScore: Int
    var userGrade: Grade
    var networkAverage: Displayed<Estimate>
    var networkAverageGrade: Grade?
    var percentile: Displayed<Estimate>
    var betterThan: Displayed<Estimate>
    var rankText: String
    var averageText: String
    var recommendations: [RecommendationBody]

    init(_ comparison: CommunityComparison) {
        self.userScore = comparison.userScore
        self.userGrade = comparison.userGrade
        self.networkAverage = comparison.networkAverage
        self.networkAverageGrade = comparison.networkAverage.value.map { Grade(score: InsightTexts.whole($0.value)) }
        self.percentile = comparison.percentile
        self.betterThan = comparison.betterThan
        self.rankText = InsightTexts.rank(betterThan: comparison.betterThan)
        self.averageText = InsightTexts.averageComparison(
            networkAverage: comparison.networkAverage,
            userScore: comparison.userScore
        )
        self.recommendations = comparison.recommendations.map(RecommendationBody.init)
    }
}

/// The body of `comparison` and `insights` before the privacy tool has sent a report.
struct NoReportBody: Encodable, Equatable {
    var state = "no_report"
    var message =
        "No local report yet: the privacy tool sends one (POST /api/v1/report) and the comparison appears here."
}

/// `GET /api/v1/insights` when a local report exists: the assembled view model of the page.
struct InsightsBody: Encodable, Equatable {
    struct Tool: Encodable, Equatable {
        var tool: ProtectionTool
        var name: String
        var reports: Int
        var shareAmongAGrade: Estimate?
        var shareAmongOthers: Estimate?
        var text: String
    }

    struct Bucket: Codable, Hashable, Sendable {
        var label: String
        var share: Estimate
    }

    struct Category: Codable, Hashable, Sendable {
        var category: SiteCategory
        var name: String
        var share: Estimate
    }

    struct Area: Encodable, Equatable {
        var area: AreaComparison.Area
        var label: String
        var userBucket: Int
        var userBucketLabel: String
        var peersBetter: Estimate?
        var peersWorse: Estimate?
        var standing: AreaComparison.Standing
    }

    struct GradeRow: Codable, Hashable, Sendable {
        var grade: Grade
        var share: Estimate
        var estimatedUsers: Int
        var isYou: Bool
    }

    struct LeaderboardBody: Encodable, Equatable {
        var grades: Displayed<[GradeRow]>
        var regions: [RegionBody]
    }

    struct EpochPoint: Encodable, Equatable {
        var epoch: Int
        var participants: Int
        var averageScore: Estimate
    }

    struct TrendsBody: Encodable, Equatable {
        var weeklyChange: ScoreTrend?
        var overallTrend: ScoreTrend?
        var ownChange: OwnScoreTrend?
        var weeklyText: String
        var overallText: String
        var ownText: String?
        var history: [EpochPoint]
    }

    struct Lesson: Encodable, Equatable {
        struct RelatedTool: Encodable, Equatable {
            var tool: ProtectionTool
            var name: String
        }
        var topic: EducationTopic
        var title: String
        var body: String
        var relatedTools: [RelatedTool]
        var forWeakSpot: Bool
    }

    var state = "ready"
    var texts: [String]
    var userScore: Int
    var userGrade: Grade
    var popularTools: [Tool]
    var popularToolsText: String
    /// How many epochs the tool and region figures pool (1: this epoch only).
    var subPopulationEpochs: Int
    var trackerDistribution: Displayed<[Bucket]>
    var riskDistribution: Displayed<[Bucket]>
    var topCategories: Displayed<[Category]>
    var topCategoriesText: String
    var areas: [Area]
    var recommendations: [RecommendationBody]
    var leaderboard: LeaderboardBody
    var trends: TrendsBody
    var education: [Lesson]

    /// The view model of `dashboard` with the stored `history`; `epochLengthSeconds` (when known) names the epoch in
    /// the trend texts ("week", or "demo epoch" on a shorter demo network).
    init(_ dashboard: CommunityDashboard, history: [AggregateSnapshot], epochLengthSeconds: Int? = nil) {
        let period = epochLengthSeconds.map { $0 == 604_800 ? "week" : "demo epoch" } ?? "week"
        let policy = dashboard.policy
        self.subPopulationEpochs = dashboard.subPopulationEpochs
        self.texts = dashboard.texts
        self.userScore = dashboard.comparison.userScore
        self.userGrade = dashboard.comparison.userGrade
        self.popularTools = dashboard.popularTools.map {
            Tool(
                tool: $0.tool,
                name: $0.tool.displayName,
                reports: $0.reports,
                shareAmongAGrade: $0.shareAmongAGrade?.scaled(by: 100),
                shareAmongOthers: $0.shareAmongOthers?.scaled(by: 100),
                text: InsightTexts.toolPopularity(.shown($0), tool: $0.tool)
            )
        }
        self.popularToolsText =
            dashboard.popularTools.first.map { InsightTexts.toolPopularity(.shown($0), tool: $0.tool) }
            ?? "Popular tools among A-grade peers: gathering data"
        self.trackerDistribution = Self.buckets(dashboard.trackerDistribution, label: LocalProfile.trackersBucketLabel)
        self.riskDistribution = Self.buckets(dashboard.riskDistribution, label: LocalProfile.riskBucketLabel)
        switch dashboard.topCategories {
        case .shown(let shares):
            self.topCategories = .shown(
                shares.map {
                    Category(category: $0.category, name: $0.category.displayName, share: $0.share.scaled(by: 100))
                }
            )
        case .needsMoreReports(let have, let needed):
            self.topCategories = .needsMoreReports(have: have, neededReports: needed)
        }
        self.topCategoriesText = InsightTexts.topCategories(dashboard.topCategories)
        self.areas = dashboard.areas.map { area in
            let label = area.area == .trackers ? "Trackers" : "High-risk trackers"
            let bucketLabel =
                area.area == .trackers
                ? LocalProfile.trackersBucketLabel(area.userBucket) : LocalProfile.riskBucketLabel(area.userBucket)
            return Area(
                area: area.area,
                label: label,
                userBucket: area.userBucket,
                userBucketLabel: bucketLabel,
                peersBetter: area.peersBetter,
                peersWorse: area.peersWorse,
                standing: area.standing
            )
        }
        self.recommendations = dashboard.comparison.recommendations.map(RecommendationBody.init)
        switch dashboard.leaderboard.grades {
        case .shown(let rows):
            self.leaderboard = LeaderboardBody(
                grades: .shown(
                    rows.map {
                        GradeRow(grade: $0.grade, share: $0.share, estimatedUsers: $0.estimatedUsers, isYou: $0.isYou)
                    }
                ),
                regions: []
            )
        case .needsMoreReports(let have, let needed):
            self.leaderboard = LeaderboardBody(
                grades: .needsMoreReports(have: have, neededReports: needed),
                regions: []
            )
        }
        self.leaderboard.regions = dashboard.leaderboard.regions.map {
            RegionBody(
                region: $0.region,
                name: $0.region.displayName,
                isYou: $0.isYou,
                stats: $0.stats,
                shareAOrB: $0.shareAOrB,
                text: InsightTexts.region($0.stats, region: $0.region)
            )
        }
        let usable = history.filter { $0.participants >= policy.networkMinimum }.sorted { $0.epoch < $1.epoch }
        self.trends = TrendsBody(
            weeklyChange: dashboard.weeklyChange,
            overallTrend: dashboard.overallTrend,
            ownChange: dashboard.ownChange,
            weeklyText: InsightTexts.weeklyChange(dashboard.weeklyChange, period: period),
            overallText: InsightTexts.overallTrend(dashboard.overallTrend, period: period),
            ownText: InsightTexts.ownChange(dashboard.ownChange, period: period),
            history: usable.suffix(12).map {
                EpochPoint(epoch: $0.epoch, participants: $0.participants, averageScore: $0.averageScore)
            }
        )
        // Lessons come from the profile's weak spots, then from tool recommendations.
        let toolTopics = Set(
            dashboard.comparison.recommendations.compactMap { recommendation -> EducationTopic? in
                if case .adoptTool = recommendation.kind { return recommendation.topic }
                return nil
            }
        )
        self.education = dashboard.education.map { topic in
            let entry = topic.entry
            return Lesson(
                topic: topic,
                title: entry.title,
                body: entry.body,
                relatedTools: entry.relatedTools.map { Lesson.RelatedTool(tool: $0, name: $0.displayName) },
                forWeakSpot: !toolTopics.contains(topic)
            )
        }
    }

    private static func buckets(_ figure: Displayed<[Estimate]>, label: (Int) -> String) -> Displayed<[Bucket]> {
        switch figure {
        case .shown(let estimates):
            .shown(estimates.enumerated().map { Bucket(label: label($0.offset), share: $0.element) })
        case .needsMoreReports(let have, let needed): .needsMoreReports(have: have, neededReports: needed)
        }
    }
}

/// `GET /api/v1/peers`.
struct PeersBody: Encodable, Equatable {
    struct Peer: Encodable, Equatable {
        var shortId: String
        var direction: DashboardPeer.Direction
        var pingMilliseconds: Double?
    }

    var count: Int
    var peers: [Peer]

    init(_ peers: [DashboardPeer]) {
        self.count = peers.count
        self.peers = peers.map {
            let ping = $0.pingMilliseconds.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
            return Peer(shortId: DashboardPeer.shorten($0.shortID), direction: $0.direction, pingMilliseconds: ping)
        }
    }
}

/// `GET`/`PUT /api/v1/settings`: the settings and a plain explanation of what each one shares.
struct SettingsBody: Encodable, Equatable {
    struct Explanation: Encodable, Equatable {
        var key: String
        var label: String
        var kind: String
        var minimum: Int?
        var maximum: Int?
        var explanation: String
    }

    var settings: P2PSettings
    var explanations: [Explanation]

    init(_ settings: P2PSettings) {
        self.settings = settings
        self.explanations = Self.explanations
    }

    static let explanations: [Explanation] = [
        Explanation(
            key: "joinPrivacyNetwork",
            label: "Join the privacy network",
            kind: "boolean",
            explanation:
                "Connects this device to other users' nodes. Joining alone sends nothing about you; peers you "
                + "connect to see your IP address. Off: no network connection is opened."
        ),
        Explanation(
            key: "shareAnonymousData",
            label: "Share anonymous reports",
            kind: "boolean",
            explanation:
                "Sends two randomized answers per epoch (your score decile and one other fixed question), with "
                + "no identifier, through a relay. Your exact score, sites and trackers never leave this device. "
                + "Off: the node only listens."
        ),
        Explanation(
            key: "shareRegionalData",
            label: "Share your broad region",
            kind: "boolean",
            explanation:
                "Adds your broad region (for example Europe) to one kind of report, so regional figures can be "
                + "shown. The region is sent as chosen; figures appear only for groups of at least 50 reports."
        ),
        Explanation(
            key: "maxConnections",
            label: "Maximum connections",
            kind: "integer",
            minimum: P2PSettings.maxConnectionsRange.lowerBound,
            maximum: P2PSettings.maxConnectionsRange.upperBound,
            explanation:
                "How many peers to stay connected to (1–20). More peers make figures arrive faster; each peer "
                + "sees your IP address while connected, nothing else."
        ),
        Explanation(
            key: "autoReconnect",
            label: "Reconnect automatically",
            kind: "boolean",
            explanation: "Reopens connections when they drop. Shares nothing extra."
        ),
    ]
}

/// The body of `PUT /api/v1/settings`: any subset of the settings; absent fields keep their value.
struct SettingsPatch: Decodable {
    var joinPrivacyNetwork: Bool?
    var shareAnonymousData: Bool?
    var shareRegionalData: Bool?
    var maxConnections: Int?
    var autoReconnect: Bool?

    /// `current` with the given fields replaced.
    func applied(to current: P2PSettings) throws(DashboardError) -> P2PSettings {
        var settings = current
        if let value = self.joinPrivacyNetwork { settings.joinPrivacyNetwork = value }
        if let value = self.shareAnonymousData { settings.shareAnonymousData = value }
        if let value = self.shareRegionalData { settings.shareRegionalData = value }
        if let value = self.autoReconnect { settings.autoReconnect = value }
        if let value = self.maxConnections {
            do {
                try settings.setMaxConnections(value)
            } catch {
                throw .invalidSettings(error.description)
            }
        }
        return settings
    }
}

/// `GET /api/v1/disclosure`: what leaves this device.
struct DisclosureBody: Encodable, Equatable {
    struct Report: Encodable, Equatable {
        var type: ReportType
        var value: String
        var randomizedIndex: Int
        var sendAt: Date
        var sent: Bool
    }

    var epoch: Int
    var explanation: String
    var summary: AnonymousPrivacyData?
    var wireReports: [Report]

    init(_ disclosure: DashboardDisclosure) {
        self.epoch = disclosure.epoch
        self.explanation =
            "The summary stays on this device: it is what the randomized reports are derived from. Only the "
            + "wire reports below leave it, each answering one fixed question with a randomized value and no "
            + "identifier, so a report's value may differ from your true value."
        self.summary = disclosure.summary
        self.wireReports = disclosure.wireReports.map {
            Report(
                type: $0.report.type,
                value: Self.describe($0.report),
                randomizedIndex: $0.report.randomizedIndex,
                sendAt: $0.sendAt,
                sent: $0.sent
            )
        }
    }

    /// "score decile 7 (70–79)", "trackers: 6–15", "Europe, grade B", …
    static func describe(_ report: WireReport) -> String {
        switch report {
        case .score(let decile):
            let low = decile * 10
            return "score decile \(decile) (\(low)–\(decile == 9 ? 100 : low + 9))"
        case .trackers(let bucket): return "trackers per page: \(LocalProfile.trackersBucketLabel(bucket))"
        case .risk(let bucket): return "share of high-risk trackers: \(LocalProfile.riskBucketLabel(bucket))"
        case .category(let category): return "site category: \(category.displayName)"
        case .regionGrade(let region, let grade): return "region \(region.displayName), grade \(grade)"
        case .tool(let tool, let isAGrade, let usesTool):
            return "\(tool.displayName): A-grade \(isAGrade ? "yes" : "no"), uses it \(usesTool ? "yes" : "no")"
        }
    }
}

/// `POST /api/v1/report` answer.
struct ReportAcceptedBody: Encodable, Equatable {
    var accepted = true
    var score: Int
    var grade: Grade
}
