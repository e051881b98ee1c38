/// Where a node serves its local dashboard.
public struct NodeDashboardOptions: Sendable {
    /// The dashboard's port when none is configured.
    public static let defaultPort = 8787

    /// The address to bind (127.0.0.1 unless the user asks otherwise).
    public var host: String
    /// The TCP port; 0 picks any free port.
    public var port: Int
    /// The per-install token that state-changing requests must carry (``InstallToken/value``).
    public var token: String
    /// Bind a non-loopback ``host`` (the user asked for it and was warned).
    public var allowNonLoopback: Bool
    /// Serve on any free port when ``port`` is taken (the port is the default, not one the user chose).
    public var fallbackToAnyPort: Bool
    /// Where `node-endpoint.json` is written once the dashboard listens (and removed when it stops), so that
    /// `phantom-trail native-host` finds the node; `nil` writes nothing.
    public var endpointDirectory: DataDirectory?

    /// Options: loopback and the default port unless given.
    public init(
        host: String = "127.0.0.1",
        port: Int = Self.defaultPort,
        token: String,
        allowNonLoopback: Bool = false,
        fallbackToAnyPort: Bool = false,
        endpointDirectory: DataDirectory? = nil
    ) {
        self.fallbackToAnyPort = fallbackToAnyPort
        self.host = host
        self.port = port
        self.token = token
        self.allowNonLoopback = allowNonLoopback
        self.endpointDirectory = endpointDirectory
    }

    /// The directory to write `node-endpoint.json` to: ``endpointDirectory`` when 127.0.0.1 reaches the dashboard
    /// (a loopback or wildcard ``host``), else `nil`.
    public var endpointFileDirectory: DataDirectory? {
        self.isLoopback || self.host == "0.0.0.0" || self.host == "::" ? self.endpointDirectory : nil
    }

    /// Whether ``host`` is a loopback address or name.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1", "[::1]"].contains(self.host.lowercased()) }
}
