public import PrivacyCore

/// The consent rules of privacy-design.md ("Consent"), as pure decisions over ``P2PSettings``.
///
/// - `joinPrivacyNetwork` off: no host is created at all (no listener, no dial, no multicast).
/// - `shareAnonymousData` off: the node receives and computes statistics but never sends a report.
/// - `shareRegionalData` off: no region leaves the device (no regionGrade report).
public struct ConsentGate: Hashable, Sendable {
    /// The settings the decisions are made from.
    public let settings: P2PSettings

    /// The gate of `settings`.
    public init(settings: P2PSettings) {
        self.settings = settings
    }

    /// Whether the node may create a libp2p host (open sockets, dial, multicast).
    public var mayOpenSockets: Bool { self.settings.joinPrivacyNetwork }

    /// Whether the node may send its own reports.
    public var maySendReports: Bool { self.settings.sendsReports }

    /// The region the node may put into reports: `region` only with regional sharing on.
    public func shareableRegion(_ region: Region?) -> Region? {
        self.maySendReports && self.settings.shareRegionalData ? region : nil
    }

    /// What must happen when the settings change from this gate's to `new`.
    public func change(to new: P2PSettings) -> ConsentChange {
        let next = ConsentGate(settings: new)
        var change = ConsentChange()
        switch (self.mayOpenSockets, next.mayOpenSockets) {
        case (false, true): change.network = .start
        case (true, false): change.network = .stop
        default: change.network = .keep
        }
        // Any narrowing of what may be sent cancels every report not yet sent: a planned regionGrade report
        // must not leave once regional sharing is off, and nothing may leave once sharing is off.
        let stoppedSharing = self.maySendReports && !next.maySendReports
        let stoppedRegion = self.settings.shareRegionalData && !new.shareRegionalData
        change.cancelUnsentReports = stoppedSharing || stoppedRegion || change.network == .stop
        change.connectionLimit = new.maxConnections == self.settings.maxConnections ? nil : new.maxConnections
        change.autoReconnect = new.autoReconnect == self.settings.autoReconnect ? nil : new.autoReconnect
        return change
    }
}

/// What a settings change requires, applied at once.
public struct ConsentChange: Hashable, Sendable {
    /// What happens to the network as a whole.
    public enum NetworkAction: Hashable, Sendable {
        /// Nothing: it stays on, or stays off.
        case keep
        /// Join: create the host and connect.
        case start
        /// Leave: cancel everything, close every connection, drop the host.
        case stop
    }

    /// Start, stop or keep the network.
    public var network: NetworkAction = .keep
    /// Cancel every planned report that has not been sent yet.
    public var cancelUnsentReports = false
    /// The new connection limit, when it changed.
    public var connectionLimit: Int?
    /// The new reconnect setting, when it changed.
    public var autoReconnect: Bool?

    /// No change.
    public init() {}
}
