public import PrivacyCore

/// Short privacy lessons, keyed to the weaknesses and tools the community figures point at.
public enum EducationTopic: String, CaseIterable, Hashable, Sendable, Codable {
    /// Many trackers per page.
    case tooManyTrackers = "too_many_trackers"
    /// A large share of high-risk trackers.
    case highRiskTrackers = "high_risk_trackers"
    /// Browser fingerprinting.
    case fingerprinting
    /// Cross-site cookies.
    case thirdPartyCookies = "third_party_cookies"
    /// List-based content blockers.
    case contentBlocking = "content_blocking"
    /// Blockers that learn trackers by behaviour.
    case learningBlockers = "learning_blockers"
    /// Allowing scripts per site.
    case scriptControl = "script_control"
    /// Consent banners.
    case cookieBanners = "cookie_banners"
    /// Identifiers in links.
    case trackingParameters = "tracking_parameters"
    /// Libraries loaded from shared CDNs.
    case cdnRequests = "cdn_requests"
    /// Deleting cookies automatically.
    case cookieCleanup = "cookie_cleanup"
    /// Containers that keep sites apart.
    case siteIsolation = "site_isolation"
    /// The browser's own tracking protection.
    case builtInProtection = "built_in_protection"
    /// Social buttons and embeds.
    case socialWidgets = "social_widgets"
    /// Data brokers.
    case dataBrokers = "data_brokers"
    /// Session-replay scripts.
    case sessionReplay = "session_replay"
    /// Where to start with a low score.
    case lowScore = "low_score"

    /// The lesson.
    public var entry: EducationEntry {
        switch self {
        case .tooManyTrackers:
            EducationEntry(
                title: "Why the number of trackers matters",
                body:
                    "Each tracker on a page is another company that learns you were there. Blocking the common "
                    + "ones with a content blocker usually cuts the count by more than half, with no other change.",
                relatedTools: [.uBlockOrigin, .adGuard, .braveShields]
            )
        case .highRiskTrackers:
            EducationEntry(
                title: "High-risk trackers",
                body:
                    "Fingerprinting scripts, session recorders and data brokers collect far more than a page view. "
                    + "They often load on sites you use daily, so blocking them pays off quickly.",
                relatedTools: [.uBlockOrigin, .privacyBadger, .noScript]
            )
        case .fingerprinting:
            EducationEntry(
                title: "Fingerprinting",
                body:
                    "A fingerprint combines screen size, fonts, graphics and other details into an identifier that "
                    + "survives clearing cookies. Browsers with fingerprinting protection make you look like many others.",
                relatedTools: [.braveShields, .firefoxStrictTrackingProtection]
            )
        case .thirdPartyCookies:
            EducationEntry(
                title: "Third-party cookies",
                body:
                    "A cookie set by an embedded tracker follows you from site to site. Blocking or partitioning "
                    + "third-party cookies removes the simplest way to link your visits.",
                relatedTools: [.firefoxStrictTrackingProtection, .safariIntelligentTrackingPrevention, .privacyBadger]
            )
        case .contentBlocking:
            EducationEntry(
                title: "Content blockers",
                body:
                    "A list-based blocker stops known ad and tracking requests before they load. It is the single "
                    + "change that most often moves a score up a grade, and pages usually get faster too.",
                relatedTools: [.uBlockOrigin, .adGuard, .ghostery, .duckDuckGoPrivacyEssentials]
            )
        case .learningBlockers:
            EducationEntry(
                title: "Blockers that learn",
                body:
                    "Some blockers watch which third parties appear on many unrelated sites and block them even if "
                    + "no list names them yet. They complement list-based blockers well.",
                relatedTools: [.privacyBadger]
            )
        case .scriptControl:
            EducationEntry(
                title: "Controlling scripts",
                body:
                    "Allowing scripts only on sites you trust blocks most tracking at the source. It takes some "
                    + "setup, since many sites need a few scripts to work.",
                relatedTools: [.noScript]
            )
        case .cookieBanners:
            EducationEntry(
                title: "Cookie banners",
                body:
                    "Consent banners often hide the \"reject\" choice. A tool can answer them for you with the most "
                    + "private options, so refusing tracking costs no clicks.",
                relatedTools: [.consentOMatic]
            )
        case .trackingParameters:
            EducationEntry(
                title: "Tracking parameters in links",
                body:
                    "Links often carry identifiers such as click ids that tell the destination where you came from. "
                    + "Stripping them keeps the link working and drops the identifier.",
                relatedTools: [.clearURLs]
            )
        case .cdnRequests:
            EducationEntry(
                title: "Shared libraries from CDNs",
                body:
                    "Many sites load common libraries from the same few content networks, which can then see your "
                    + "browsing. Serving those libraries locally removes the request.",
                relatedTools: [.localCDN]
            )
        case .cookieCleanup:
            EducationEntry(
                title: "Cleaning up cookies",
                body:
                    "Deleting a site's cookies when you close its tab keeps logins for sites you choose and "
                    + "forgets the rest, so old identifiers do not pile up.",
                relatedTools: [.cookieAutoDelete]
            )
        case .siteIsolation:
            EducationEntry(
                title: "Keeping sites apart",
                body:
                    "Containers give each group of sites its own cookies and storage. A social network opened in "
                    + "its own container cannot see what you do elsewhere.",
                relatedTools: [.firefoxContainers]
            )
        case .builtInProtection:
            EducationEntry(
                title: "Your browser's built-in protection",
                body:
                    "Modern browsers ship tracking protection; the strict settings block more at the cost of an "
                    + "occasional broken page, which you can allow per site.",
                relatedTools: [.firefoxStrictTrackingProtection, .braveShields, .safariIntelligentTrackingPrevention]
            )
        case .socialWidgets:
            EducationEntry(
                title: "Social buttons and embeds",
                body:
                    "Share buttons and embedded posts tell the social network about every page that shows them, "
                    + "even if you never click. Blockers can replace them with click-to-load placeholders.",
                relatedTools: [.privacyBadger, .duckDuckGoPrivacyEssentials]
            )
        case .dataBrokers:
            EducationEntry(
                title: "Data brokers",
                body:
                    "Data brokers buy and merge browsing data into profiles that are sold on. Blocking their scripts "
                    + "limits what new data reaches them.",
                relatedTools: [.uBlockOrigin, .ghostery]
            )
        case .sessionReplay:
            EducationEntry(
                title: "Session replay",
                body:
                    "Session-replay scripts record clicks, scrolling and sometimes typed text. They are rarely needed "
                    + "for a site to work, so blocking them is safe.",
                relatedTools: [.uBlockOrigin, .adGuard]
            )
        case .lowScore:
            EducationEntry(
                title: "Where to start",
                body:
                    "Start with one content blocker and your browser's strict tracking protection. Those two steps "
                    + "raise most scores more than any other change; add more tools only when you want them.",
                relatedTools: [.uBlockOrigin, .firefoxStrictTrackingProtection]
            )
        }
    }

    /// The lesson that best explains `tool`.
    public static func topic(for tool: ProtectionTool) -> EducationTopic {
        switch tool {
        case .uBlockOrigin, .adGuard, .ghostery, .duckDuckGoPrivacyEssentials: .contentBlocking
        case .privacyBadger: .learningBlockers
        case .noScript: .scriptControl
        case .firefoxStrictTrackingProtection, .braveShields, .safariIntelligentTrackingPrevention: .builtInProtection
        case .consentOMatic: .cookieBanners
        case .clearURLs: .trackingParameters
        case .localCDN: .cdnRequests
        case .cookieAutoDelete: .cookieCleanup
        case .firefoxContainers: .siteIsolation
        }
    }

    /// Lessons for a profile's weak spots, most relevant first.
    public static func topics(for profile: LocalProfile) -> [EducationTopic] {
        var topics: [EducationTopic] = []
        if profile.grade <= .d { topics.append(.lowScore) }
        if profile.trackersBucket >= 3 { topics.append(.tooManyTrackers) }
        if profile.riskBucket >= 2 { topics.append(.highRiskTrackers) }
        if profile.tools.isEmpty { topics.append(.contentBlocking) }
        return topics
    }
}

/// One short lesson written for Phantom Trail.
public struct EducationEntry: Hashable, Sendable, Codable {
    /// Title.
    public var title: String
    /// Two sentences or so.
    public var body: String
    /// Tools that address the topic.
    public var relatedTools: [ProtectionTool]

    /// Creates an entry.
    public init(title: String, body: String, relatedTools: [ProtectionTool]) {
        self.title = title
        self.body = body
        self.relatedTools = relatedTools
    }
}
