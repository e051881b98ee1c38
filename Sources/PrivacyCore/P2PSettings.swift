/// The user's consent and connection settings (original plan, "User Consent and Control").
/// Every sharing switch defaults to off; the user must opt in.
public struct P2PSettings: Hashable, Sendable {
    /// The allowed number of peer connections.
    public static let maxConnectionsRange = 1...20

    /// Join the network at all; without it no socket is opened.
    public var joinPrivacyNetwork: Bool
    /// Send wire reports; without it the node only listens.
    public var shareAnonymousData: Bool
    /// Allow the broad region in the summary and the regionGrade report.
    public var shareRegionalData: Bool
    /// How many peers to stay connected to, within ``maxConnectionsRange``.
    public private(set) var maxConnections: Int
    /// Reconnect to peers when connections drop.
    public var autoReconnect: Bool

    /// The defaults: all sharing off, 10 connections, reconnect on.
    public init() {
        self.joinPrivacyNetwork = false
        self.shareAnonymousData = false
        self.shareRegionalData = false
        self.maxConnections = 10
        self.autoReconnect = true
    }

    /// Settings with explicit values.
    /// - Throws: ``P2PSettingsError/maxConnectionsOutOfRange(_:)`` when `maxConnections` is not in 1...20.
    public init(
        joinPrivacyNetwork: Bool = false,
        shareAnonymousData: Bool = false,
        shareRegionalData: Bool = false,
        maxConnections: Int = 10,
        autoReconnect: Bool = true
    ) throws(P2PSettingsError) {
        self.init()
        self.joinPrivacyNetwork = joinPrivacyNetwork
        self.shareAnonymousData = shareAnonymousData
        self.shareRegionalData = shareRegionalData
        self.autoReconnect = autoReconnect
        try self.setMaxConnections(maxConnections)
    }

    /// Changes ``maxConnections`` after checking the range.
    public mutating func setMaxConnections(_ value: Int) throws(P2PSettingsError) {
        guard Self.maxConnectionsRange.contains(value) else {
            throw .maxConnectionsOutOfRange(value)
        }
        self.maxConnections = value
    }

    /// Whether this user sends wire reports at all (joined and sharing).
    public var sendsReports: Bool { self.joinPrivacyNetwork && self.shareAnonymousData }
}

extension P2PSettings: Codable {
    private enum CodingKeys: String, CodingKey {
        case joinPrivacyNetwork, shareAnonymousData, shareRegionalData, maxConnections, autoReconnect
    }

    /// Decodes settings; absent fields take their defaults, and an out-of-range `maxConnections` is
    /// rejected with ``P2PSettingsError``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = P2PSettings()
        try self.init(
            joinPrivacyNetwork: container.decodeIfPresent(Bool.self, forKey: .joinPrivacyNetwork)
                ?? defaults.joinPrivacyNetwork,
            shareAnonymousData: container.decodeIfPresent(Bool.self, forKey: .shareAnonymousData)
                ?? defaults.shareAnonymousData,
            shareRegionalData: container.decodeIfPresent(Bool.self, forKey: .shareRegionalData)
                ?? defaults.shareRegionalData,
            maxConnections: container.decodeIfPresent(Int.self, forKey: .maxConnections) ?? defaults.maxConnections,
            autoReconnect: container.decodeIfPresent(Bool.self, forKey: .autoReconnect) ?? defaults.autoReconnect
        )
    }

    /// Encodes every field under the plan's names.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.joinPrivacyNetwork, forKey: .joinPrivacyNetwork)
        try container.encode(self.shareAnonymousData, forKey: .shareAnonymousData)
        try container.encode(self.shareRegionalData, forKey: .shareRegionalData)
        try container.encode(self.maxConnections, forKey: .maxConnections)
        try container.encode(self.autoReconnect, forKey: .autoReconnect)
    }
}

/// Why settings were rejected.
public enum P2PSettingsError: Error, Equatable, CustomStringConvertible {
    /// `maxConnections` must be within 1...20; the associated value is the one given.
    case maxConnectionsOutOfRange(Int)

    public var description: String {
        switch self {
        case .maxConnectionsOutOfRange(let value):
            "maxConnections: \(value) is out of range (allowed: \(P2PSettings.maxConnectionsRange))"
        }
    }
}
