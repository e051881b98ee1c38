import P2PCore
public import PrivacyCore

/// Options of the node itself (not consent): where it listens, whom it dials first, LAN discovery, the
/// dashboard port and an optional identity key file. Stored under the `node` settings key.
///
/// Bootstrap addresses are the user's own configuration; addresses learned from the network are never
/// stored (privacy-design.md, "Storage").
public struct NodeOptions: Hashable, Sendable, Codable {
    /// The most addresses accepted in one list.
    public static let maximumAddresses = 64

    /// Multiaddrs to listen on (empty: the node's default).
    public var listenAddresses: [String]
    /// Multiaddrs of peers to dial at start.
    public var bootstrapAddresses: [String]
    /// Whether to discover peers on the LAN with mDNS.
    public var mdns: Bool
    /// The local dashboard's TCP port on 127.0.0.1 (`nil`: the dashboard's default; 0: any free port).
    public var dashboardPort: Int?
    /// A libp2p key file for a stable peer ID (`nil`: a fresh identity every run).
    public var identityKeyFile: String?

    /// The defaults: no addresses, no mDNS, default port, fresh identity.
    public init() {
        self.listenAddresses = []
        self.bootstrapAddresses = []
        self.mdns = false
        self.dashboardPort = nil
        self.identityKeyFile = nil
    }

    /// Options with explicit values.
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` for a malformed multiaddr, too many addresses or
    ///   a port outside 0–65535.
    public init(
        listenAddresses: [String] = [],
        bootstrapAddresses: [String] = [],
        mdns: Bool = false,
        dashboardPort: Int? = nil,
        identityKeyFile: String? = nil
    ) throws(NodeRuntimeError) {
        try Self.checkAddresses(listenAddresses, name: "listenAddresses")
        try Self.checkAddresses(bootstrapAddresses, name: "bootstrapAddresses")
        try Self.checkPort(dashboardPort)
        if let identityKeyFile, identityKeyFile.isEmpty {
            throw NodeRuntimeError(.invalidSetting, "identityKeyFile: an empty path")
        }
        self.listenAddresses = listenAddresses
        self.bootstrapAddresses = bootstrapAddresses
        self.mdns = mdns
        self.dashboardPort = dashboardPort
        self.identityKeyFile = identityKeyFile
    }

    private enum CodingKeys: String, CodingKey {
        case listenAddresses, bootstrapAddresses, mdns, dashboardPort, identityKeyFile
    }

    /// Decodes options; absent fields take their defaults, invalid values are rejected.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            listenAddresses: container.decodeIfPresent([String].self, forKey: .listenAddresses) ?? [],
            bootstrapAddresses: container.decodeIfPresent([String].self, forKey: .bootstrapAddresses) ?? [],
            mdns: container.decodeIfPresent(Bool.self, forKey: .mdns) ?? false,
            dashboardPort: container.decodeIfPresent(Int.self, forKey: .dashboardPort),
            identityKeyFile: container.decodeIfPresent(String.self, forKey: .identityKeyFile)
        )
    }

    static func checkAddresses(_ addresses: [String], name: String) throws(NodeRuntimeError) {
        guard addresses.count <= Self.maximumAddresses else {
            throw NodeRuntimeError(
                .invalidSetting,
                "\(name): \(addresses.count) addresses, at most \(Self.maximumAddresses) allowed"
            )
        }
        for address in addresses {
            do {
                _ = try Multiaddr(parsing: address)
            } catch {
                throw NodeRuntimeError(.invalidSetting, "\(name): \"\(address)\" is not a valid multiaddr: \(error)")
            }
        }
    }

    static func checkPort(_ port: Int?) throws(NodeRuntimeError) {
        if let port, !(0...65_535).contains(port) {
            throw NodeRuntimeError(.invalidSetting, "dashboardPort: \(port) is not a TCP port (0–65535)")
        }
    }
}

/// Everything the node keeps in its settings table: the consent settings and the node options.
public struct StoredSettings: Hashable, Sendable, Codable {
    /// Consent and connection settings (all sharing off by default).
    public var p2p: P2PSettings
    /// The node's own options.
    public var node: NodeOptions

    /// Settings from their parts (defaults: everything off).
    public init(p2p: P2PSettings = P2PSettings(), node: NodeOptions = NodeOptions()) {
        self.p2p = p2p
        self.node = node
    }
}

/// Values given on the command line for one run. Each non-`nil` field replaces the stored value for
/// this run; the stored settings change only when the caller asks to save them.
public struct SettingsOverrides: Hashable, Sendable {
    /// `--join`.
    public var joinPrivacyNetwork: Bool?
    /// `--share`.
    public var shareAnonymousData: Bool?
    /// `--share-region`.
    public var shareRegionalData: Bool?
    /// `--max-connections N` (checked against 1–20).
    public private(set) var maxConnections: Int?
    /// Reconnection with backoff.
    public var autoReconnect: Bool?
    /// `--listen` addresses (replace the stored list).
    public private(set) var listenAddresses: [String]?
    /// `--bootstrap` addresses (replace the stored list).
    public private(set) var bootstrapAddresses: [String]?
    /// `--mdns`.
    public var mdns: Bool?
    /// The dashboard port.
    public private(set) var dashboardPort: Int?
    /// `--key-file`.
    public var identityKeyFile: String?

    /// Overrides with the given values (`nil`: keep the stored value).
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` for an out-of-range value or malformed address.
    public init(
        joinPrivacyNetwork: Bool? = nil,
        shareAnonymousData: Bool? = nil,
        shareRegionalData: Bool? = nil,
        maxConnections: Int? = nil,
        autoReconnect: Bool? = nil,
        listenAddresses: [String]? = nil,
        bootstrapAddresses: [String]? = nil,
        mdns: Bool? = nil,
        dashboardPort: Int? = nil,
        identityKeyFile: String? = nil
    ) throws(NodeRuntimeError) {
        if let maxConnections, !P2PSettings.maxConnectionsRange.contains(maxConnections) {
            throw NodeRuntimeError(
                .invalidSetting,
                "maxConnections: \(maxConnections) is out of range (allowed: \(P2PSettings.maxConnectionsRange))"
            )
        }
        if let listenAddresses { try NodeOptions.checkAddresses(listenAddresses, name: "listenAddresses") }
        if let bootstrapAddresses { try NodeOptions.checkAddresses(bootstrapAddresses, name: "bootstrapAddresses") }
        try NodeOptions.checkPort(dashboardPort)
        self.joinPrivacyNetwork = joinPrivacyNetwork
        self.shareAnonymousData = shareAnonymousData
        self.shareRegionalData = shareRegionalData
        self.maxConnections = maxConnections
        self.autoReconnect = autoReconnect
        self.listenAddresses = listenAddresses
        self.bootstrapAddresses = bootstrapAddresses
        self.mdns = mdns
        self.dashboardPort = dashboardPort
        self.identityKeyFile = identityKeyFile
    }

    /// Whether no value is overridden.
    public var isEmpty: Bool { self.allNil }

    private var allNil: Bool {
        self.joinPrivacyNetwork == nil && self.shareAnonymousData == nil && self.shareRegionalData == nil
            && self.maxConnections == nil && self.autoReconnect == nil && self.listenAddresses == nil
            && self.bootstrapAddresses == nil && self.mdns == nil && self.dashboardPort == nil
            && self.identityKeyFile == nil
    }

    /// `settings` with these overrides applied.
    public func applied(to settings: StoredSettings) -> StoredSettings {
        var result = settings
        if let value = self.joinPrivacyNetwork { result.p2p.joinPrivacyNetwork = value }
        if let value = self.shareAnonymousData { result.p2p.shareAnonymousData = value }
        if let value = self.shareRegionalData { result.p2p.shareRegionalData = value }
        // Checked in init against the same range, so this cannot fail.
        if let value = self.maxConnections { try! result.p2p.setMaxConnections(value) }
        if let value = self.autoReconnect { result.p2p.autoReconnect = value }
        if let value = self.listenAddresses { result.node.listenAddresses = value }
        if let value = self.bootstrapAddresses { result.node.bootstrapAddresses = value }
        if let value = self.mdns { result.node.mdns = value }
        if let value = self.dashboardPort { result.node.dashboardPort = value }
        if let value = self.identityKeyFile { result.node.identityKeyFile = value }
        return result
    }
}

/// The settings of one run: what is stored, what the command line overrides, and the result the node uses.
public struct NodeSettings: Hashable, Sendable {
    /// The settings as stored in the database.
    public var stored: StoredSettings
    /// This run's command-line overrides.
    public var overrides: SettingsOverrides

    /// Combines stored settings with this run's overrides.
    public init(stored: StoredSettings, overrides: SettingsOverrides) {
        self.stored = stored
        self.overrides = overrides
    }

    /// The settings in force for this run: flags win over stored values.
    public var effective: StoredSettings { self.overrides.applied(to: self.stored) }
}
