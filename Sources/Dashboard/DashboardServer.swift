import CommunityInsights
import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import PrivacyCore

/// The local dashboard: the page, its assets, the JSON API (docs/openapi.json) and the event stream, over a
/// ``DashboardDataSource``.
///
/// It binds 127.0.0.1 unless told otherwise (``Configuration/allowNonLoopback``), answers only requests
/// whose Host header names it (DNS rebinding), needs the per-install token for every state-changing
/// request, sends no CORS headers and a strict content security policy. The page takes the token from
/// the URL fragment the node prints (``url(host:port:token:)``: `http://127.0.0.1:PORT/#token=TOKEN`); a
/// fragment is never sent to a server, logged or passed on as a referrer.
public struct DashboardServer: Sendable {
    /// Where and how the dashboard listens.
    public struct Configuration: Sendable {
        /// The address to bind; loopback unless ``allowNonLoopback``.
        public var host: String
        /// The port; 0 picks any free port (reported through `onListening`).
        public var port: Int
        /// The per-install token that state-changing requests must carry.
        public var token: String
        /// Allow a non-loopback ``host`` (the dashboard then logs a warning when it starts).
        public var allowNonLoopback: Bool
        /// Extra Host names to answer to besides the loopback names (e.g. the non-loopback host's name).
        public var extraHostNames: [String]
        /// Largest accepted `POST /api/v1/report` body.
        public var maximumReportBytes: Int
        /// Largest accepted `PUT /api/v1/settings` body.
        public var maximumSettingsBytes: Int

        /// Creates a configuration: loopback, any port, 1 MiB reports, 4 KiB settings.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            token: String,
            allowNonLoopback: Bool = false,
            extraHostNames: [String] = [],
            maximumReportBytes: Int = 1 << 20,
            maximumSettingsBytes: Int = 4096
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.allowNonLoopback = allowNonLoopback
            self.extraHostNames = extraHostNames
            self.maximumReportBytes = maximumReportBytes
            self.maximumSettingsBytes = maximumSettingsBytes
        }

        /// Whether ``host`` is a loopback address or name.
        public var isLoopback: Bool { DashboardServer.loopbackNames.contains(self.host.lowercased()) }
    }

    /// Host names that mean this machine.
    static let loopbackNames: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]"]

    /// The configuration.
    public let configuration: Configuration
    private let dataSource: any DashboardDataSource
    private let logger: Logger
    let binding: DashboardBinding

    /// Creates a dashboard over `dataSource`.
    /// - Throws: ``DashboardError`` (`invalidConfiguration`) when the token is shorter than 16 characters,
    ///   the port is outside 0–65535, or the host is not loopback without ``Configuration/allowNonLoopback``.
    public init(
        configuration: Configuration,
        dataSource: any DashboardDataSource,
        logger: Logger = Logger(label: "phantom-trail.dashboard")
    ) throws(DashboardError) {
        guard configuration.token.count >= 16 else {
            throw DashboardError(
                code: .invalidConfiguration,
                message: "the dashboard token must be 16 characters or more"
            )
        }
        guard (0...65_535).contains(configuration.port) else {
            throw DashboardError(code: .invalidConfiguration, message: "port \(configuration.port) is out of range")
        }
        guard configuration.isLoopback || configuration.allowNonLoopback else {
            throw DashboardError(
                code: .invalidConfiguration,
                message: "the dashboard binds loopback only; \(configuration.host) needs an explicit opt-in"
            )
        }
        self.configuration = configuration
        self.dataSource = dataSource
        self.logger = logger
        var names = ["127.0.0.1", "localhost", "[::1]"] + configuration.extraHostNames
        if !configuration.isLoopback, configuration.host != "0.0.0.0", configuration.host != "::" {
            names.append(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host)
        }
        self.binding = DashboardBinding(hostNames: names, port: configuration.port == 0 ? nil : configuration.port)
    }

    /// The URL to open: `http://127.0.0.1:PORT/#token=TOKEN`.
    public static func url(host: String = "127.0.0.1", port: Int, token: String) -> String {
        let name = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "http://\(name):\(port)/#token=\(token)"
    }

    /// A new per-install token: 32 random bytes in hex.
    public static func generateToken(using generator: inout some RandomNumberGenerator) -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// A new per-install token from the system's generator.
    public static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Self.generateToken(using: &generator)
    }

    /// The routes with the guard middleware (for the application and for tests).
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: DashboardGuardMiddleware(binding: self.binding, token: self.configuration.token))
        let routes = DashboardRoutes(
            dataSource: self.dataSource,
            maximumReportBytes: self.configuration.maximumReportBytes,
            maximumSettingsBytes: self.configuration.maximumSettingsBytes
        )
        routes.register(on: router)
        return router
    }

    /// The Hummingbird application (a swift-service-lifecycle `Service`) serving the dashboard.
    /// - Parameter onListening: called with the bound port once the server listens.
    public func makeApplication(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let binding = self.binding
        let logger = self.logger
        let configuration = self.configuration
        if !configuration.isLoopback {
            logger.warning(
                "dashboard binds a non-loopback address: other machines can reach it",
                metadata: ["dash.host": "\(configuration.host)"]
            )
        }
        return Application(
            router: self.makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                binding.bound(port: port)
                logger.debug("dashboard listening", metadata: ["dash.port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    /// Serves until cancelled.
    /// - Parameter onListening: called with the bound port once the server listens.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await self.makeApplication(onListening: onListening).runService()
    }
}
