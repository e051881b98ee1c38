public import PrivacyCore

/// What the native messaging host asks of the local node. The `phantom-trail native-host` command
/// implements it over the node's local JSON API (``LocalNodeClient``); tests use a fake.
///
/// Results are the node's JSON answers, passed to the browser as they are.
public protocol NodeControl: Sendable {
    /// The node's status (`GET /api/v1/status`).
    func status() async throws -> NativeJSON
    /// This epoch's community statistics (`GET /api/v1/stats`).
    func stats() async throws -> NativeJSON
    /// How the user compares with the network (`GET /api/v1/comparison`).
    func comparison() async throws -> NativeJSON
    /// The assembled insights (`GET /api/v1/insights`).
    func insights() async throws -> NativeJSON
    /// Submits the user's local report (`POST /api/v1/report`); `reportJSON` has been validated.
    func submitReport(_ reportJSON: NativeJSON) async throws -> NativeJSON
    /// Changes some settings and returns the settings in force (`GET` then `PUT /api/v1/settings`).
    func updateSettings(_ change: SettingsChange) async throws -> NativeJSON
}

/// A change to some of the consent settings; absent fields keep their current value.
public struct SettingsChange: Hashable, Sendable {
    /// New `joinPrivacyNetwork`, if given.
    public var joinPrivacyNetwork: Bool?
    /// New `shareAnonymousData`, if given.
    public var shareAnonymousData: Bool?
    /// New `shareRegionalData`, if given.
    public var shareRegionalData: Bool?
    /// New `maxConnections` (1–20), if given.
    public private(set) var maxConnections: Int?
    /// New `autoReconnect`, if given.
    public var autoReconnect: Bool?

    /// The setting names a change may contain.
    public static let fieldNames: Set<String> = [
        "joinPrivacyNetwork", "shareAnonymousData", "shareRegionalData", "maxConnections", "autoReconnect",
    ]

    /// A change with the given fields.
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` when `maxConnections` is outside 1–20.
    public init(
        joinPrivacyNetwork: Bool? = nil,
        shareAnonymousData: Bool? = nil,
        shareRegionalData: Bool? = nil,
        maxConnections: Int? = nil,
        autoReconnect: Bool? = nil
    ) throws(NodeRuntimeError) {
        if let maxConnections, !P2PSettings.maxConnectionsRange.contains(maxConnections) {
            throw NodeRuntimeError(
                .invalidSetting,
                "maxConnections: \(maxConnections) is out of range (allowed: \(P2PSettings.maxConnectionsRange))"
            )
        }
        self.joinPrivacyNetwork = joinPrivacyNetwork
        self.shareAnonymousData = shareAnonymousData
        self.shareRegionalData = shareRegionalData
        self.maxConnections = maxConnections
        self.autoReconnect = autoReconnect
    }

    /// A change from a JSON object such as `{"shareAnonymousData": true, "maxConnections": 8}`.
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` naming an unknown field, a wrong type, an
    ///   out-of-range value, or an empty change.
    public init(json: NativeJSON) throws(NodeRuntimeError) {
        guard case .object(let members) = json else {
            throw NodeRuntimeError(.invalidSetting, "\"settings\" must be an object")
        }
        guard !members.isEmpty else {
            throw NodeRuntimeError(.invalidSetting, "\"settings\" is empty: name at least one setting to change")
        }
        if let unknown = members.keys.sorted().first(where: { !Self.fieldNames.contains($0) }) {
            throw NodeRuntimeError(
                .invalidSetting,
                "unknown setting \"\(unknown)\" (known: \(Self.fieldNames.sorted().joined(separator: ", ")))"
            )
        }
        func flag(_ name: String) throws(NodeRuntimeError) -> Bool? {
            guard let value = members[name] else { return nil }
            guard case .bool(let flag) = value else {
                throw NodeRuntimeError(.invalidSetting, "setting \"\(name)\" must be true or false")
            }
            return flag
        }
        var connections: Int?
        if let value = members["maxConnections"] {
            guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e9 else {
                throw NodeRuntimeError(.invalidSetting, "setting \"maxConnections\" must be a whole number")
            }
            connections = Int(number)
        }
        try self.init(
            joinPrivacyNetwork: flag("joinPrivacyNetwork"),
            shareAnonymousData: flag("shareAnonymousData"),
            shareRegionalData: flag("shareRegionalData"),
            maxConnections: connections,
            autoReconnect: flag("autoReconnect")
        )
    }

    /// `settings` with this change applied.
    public func applied(to settings: P2PSettings) -> P2PSettings {
        var result = settings
        if let value = self.joinPrivacyNetwork { result.joinPrivacyNetwork = value }
        if let value = self.shareAnonymousData { result.shareAnonymousData = value }
        if let value = self.shareRegionalData { result.shareRegionalData = value }
        // Checked against the same range in init.
        if let value = self.maxConnections { try! result.setMaxConnections(value) }
        if let value = self.autoReconnect { result.autoReconnect = value }
        return result
    }
}
