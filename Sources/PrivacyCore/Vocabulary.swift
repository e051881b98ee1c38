// Fixed vocabularies shared by the local report, the anonymized summary and the wire reports.
// The order of every `allCases` list is part of protocol v1: wire reports carry indices into it.

/// A privacy grade derived from a 0–100 score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.
public enum Grade: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    case a = "A"
    case b = "B"
    case c = "C"
    case d = "D"
    case f = "F"

    /// The grade of a score; scores outside 0–100 are clamped first.
    public init(score: Int) {
        switch min(max(score, 0), 100) {
        case 90...: self = .a
        case 80..<90: self = .b
        case 70..<80: self = .c
        case 60..<70: self = .d
        default: self = .f
        }
    }

    /// The lowest score that earns this grade.
    public var minimumScore: Int {
        switch self {
        case .a: 90
        case .b: 80
        case .c: 70
        case .d: 60
        case .f: 0
        }
    }

    /// Position in `allCases` (A = 0 … F = 4): the wire index.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public var description: String { self.rawValue }

    private var rank: Int {
        switch self {
        case .a: 4
        case .b: 3
        case .c: 2
        case .d: 1
        case .f: 0
        }
    }

    /// A is the best grade: `Grade.a > Grade.b`.
    public static func < (lhs: Grade, rhs: Grade) -> Bool { lhs.rank < rhs.rank }
}

/// How risky a tracker event is.
public enum RiskLevel: String, CaseIterable, Codable, Sendable, Comparable {
    case low
    case medium
    case high
    case critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: RiskLevel, rhs: RiskLevel) -> Bool { lhs.rank < rhs.rank }
}

/// The kind of tracker the privacy tool saw.
public enum TrackerCategory: String, CaseIterable, Codable, Sendable {
    case advertising
    case analytics
    case social
    case fingerprinting
    case cryptomining
    case sessionReplay = "session_replay"
    case dataBroker = "data_broker"
    case other
}

/// What a visited site is, as the privacy tool classified it. Includes the sensitive categories,
/// which never leave the device as such: ``SiteCategory/init(folding:)`` folds them into `.other`.
public enum WebsiteCategory: String, CaseIterable, Codable, Sendable {
    case news
    case social
    case shopping
    case entertainment
    case search
    case reference
    case technology
    case finance
    case travel
    case sports
    case games
    case other
    // Sensitive: folded into `.other` before anything is derived from them.
    case health
    case religion
    case politics
    case adult
    case dating
    case jobs

    /// Whether this category reveals something sensitive about the user.
    public var isSensitive: Bool {
        switch self {
        case .health, .religion, .politics, .adult, .dating, .jobs: true
        default: false
        }
    }
}

/// The 12 coarse site categories that may appear in an anonymized summary or a wire report.
public enum SiteCategory: String, CaseIterable, Codable, Sendable {
    case news
    case social
    case shopping
    case entertainment
    case search
    case reference
    case technology
    case finance
    case travel
    case sports
    case games
    case other

    /// Folds a measured category into the coarse vocabulary: sensitive categories become `.other`.
    public init(folding category: WebsiteCategory) {
        self = SiteCategory(rawValue: category.rawValue) ?? .other
    }

    /// Position in `allCases`: the wire index and the canonical order.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public var displayName: String {
        switch self {
        case .news: "News"
        case .social: "Social media"
        case .shopping: "Shopping"
        case .entertainment: "Entertainment"
        case .search: "Search"
        case .reference: "Reference and education"
        case .technology: "Technology"
        case .finance: "Finance"
        case .travel: "Travel"
        case .sports: "Sports"
        case .games: "Games"
        case .other: "Other"
        }
    }
}

/// The curated list of protection tools (at most 16) a user may report using.
public enum ProtectionTool: String, CaseIterable, Codable, Sendable {
    case uBlockOrigin = "ublock_origin"
    case privacyBadger = "privacy_badger"
    case ghostery
    case duckDuckGoPrivacyEssentials = "duckduckgo_privacy_essentials"
    case adGuard = "adguard"
    case noScript = "noscript"
    case firefoxStrictTrackingProtection = "firefox_strict_tracking_protection"
    case braveShields = "brave_shields"
    case safariIntelligentTrackingPrevention = "safari_itp"
    case consentOMatic = "consent_o_matic"
    case clearURLs = "clearurls"
    case localCDN = "localcdn"
    case cookieAutoDelete = "cookie_autodelete"
    case firefoxContainers = "firefox_multi_account_containers"

    /// Position in `allCases`: the wire index.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public var displayName: String {
        switch self {
        case .uBlockOrigin: "uBlock Origin"
        case .privacyBadger: "Privacy Badger"
        case .ghostery: "Ghostery"
        case .duckDuckGoPrivacyEssentials: "DuckDuckGo Privacy Essentials"
        case .adGuard: "AdGuard"
        case .noScript: "NoScript"
        case .firefoxStrictTrackingProtection: "Firefox strict tracking protection"
        case .braveShields: "Brave Shields"
        case .safariIntelligentTrackingPrevention: "Safari Intelligent Tracking Prevention"
        case .consentOMatic: "Consent-O-Matic"
        case .clearURLs: "ClearURLs"
        case .localCDN: "LocalCDN"
        case .cookieAutoDelete: "Cookie AutoDelete"
        case .firefoxContainers: "Firefox Multi-Account Containers"
        }
    }
}

/// Six broad regions; a user shares one only with `shareRegionalData` on.
public enum Region: String, CaseIterable, Codable, Sendable {
    case northAmerica = "north_america"
    case latinAmerica = "latin_america"
    case europe
    case middleEastAndAfrica = "middle_east_africa"
    case asia
    case oceania

    /// Position in `allCases`: the wire index.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public var displayName: String {
        switch self {
        case .northAmerica: "North America"
        case .latinAmerica: "Latin America"
        case .europe: "Europe"
        case .middleEastAndAfrica: "Middle East and Africa"
        case .asia: "Asia"
        case .oceania: "Oceania"
        }
    }
}
