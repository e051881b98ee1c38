import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The addresses a dashboard answers to: loopback names (plus any configured extra name) and the bound port.
///
/// The port is learnt when the server binds (port 0 picks any free one), so it sits behind a `Mutex`.
final class DashboardBinding: Sendable {
    /// The `Host` header (HTTPTypes maps it to the request's authority, but a proxy or test may keep it).
    static let hostField = HTTPField.Name("Host")!

    /// Lower-case host names without port ("127.0.0.1", "localhost", "[::1]", …).
    let hostNames: Set<String>
    private let boundPort: Mutex<Int?>

    init(hostNames: some Sequence<String>, port: Int?) {
        self.hostNames = Set(hostNames.map { $0.lowercased() })
        self.boundPort = Mutex(port)
    }

    /// The port requests must name, once known.
    var port: Int? { self.boundPort.withLock { $0 } }

    /// Records the port the server bound.
    func bound(port: Int) { self.boundPort.withLock { $0 = port } }

    /// Whether a `Host` header value names this server: one of ``hostNames`` and exactly the bound port.
    func accepts(host: String?) -> Bool {
        guard let host, let port = self.port else { return false }
        let value = host.lowercased()
        guard let colon = value.lastIndex(of: ":"), !value.hasSuffix("]") else { return false }
        let name = String(value[..<colon])
        let portText = value[value.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
            let givenPort = Int(portText)
        else { return false }
        return givenPort == port && self.hostNames.contains(name)
    }

    /// Whether an `Origin` header value is this server's own origin (`http://<accepted host>`).
    func accepts(origin: String) -> Bool {
        let prefix = "http://"
        guard origin.lowercased().hasPrefix(prefix) else { return false }
        return self.accepts(host: String(origin.dropFirst(prefix.count)))
    }
}

/// Guards every request before it reaches a route, and adds the security headers to every answer.
///
/// In order: the Host header must name this server (DNS rebinding, 421); an `Origin` header must be this
/// server's origin (403); `OPTIONS` is refused (405: no CORS preflight ever succeeds); every method other
/// than GET and HEAD needs `Authorization: Bearer <token>` (401) and a JSON content type (415). Errors
/// become the JSON error body; anything unexpected becomes a generic 500.
struct DashboardGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let binding: DashboardBinding
    let token: String

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            try self.check(request)
            response = try await next(request, context)
        } catch let error as DashboardError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let mapped: DashboardError =
                switch error.status {
                case .notFound: DashboardError(code: .notFound, message: "no such endpoint: \(request.uri.path)")
                case .methodNotAllowed:
                    DashboardError(code: .methodNotAllowed, message: "\(request.method) is not allowed here")
                case .contentTooLarge: DashboardError(code: .payloadTooLarge, message: "the body is too large")
                default: DashboardError(code: .internalError, message: "the request could not be handled")
                }
            response = try mapped.response(from: request, context: context)
        } catch {
            context.logger.debug(
                "dashboard request failed",
                metadata: ["error": "\(String(reflecting: type(of: error)))"]
            )
            response = try DashboardError(code: .internalError, message: "the node could not answer this request")
                .response(from: request, context: context)
        }
        DashboardResponses.addSecurityHeaders(&response.headers)
        return response
    }

    private func check(_ request: Request) throws(DashboardError) {
        let host = request.headers[DashboardBinding.hostField] ?? request.head.authority
        guard self.binding.accepts(host: host) else {
            let expected = self.binding.port.map { "127.0.0.1:\($0) or localhost:\($0)" } ?? "this dashboard's address"
            throw DashboardError(
                code: .misdirectedRequest,
                message: "the Host header \(host.map { "'\($0)'" } ?? "(missing)") is not \(expected)"
            )
        }
        if let origin = request.headers[.origin], !self.binding.accepts(origin: origin) {
            throw DashboardError(code: .forbiddenOrigin, message: "requests from other origins are not accepted")
        }
        switch request.method {
        case .get, .head:
            return
        case .options:
            throw DashboardError(code: .methodNotAllowed, message: "cross-origin requests are not supported")
        default:
            break
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            Self.constantTimeEqual(String(authorization.dropFirst("Bearer ".count)), self.token)
        else {
            throw DashboardError(
                code: .unauthorized,
                message: "this request changes the node and needs the dashboard token (Authorization: Bearer …)"
            )
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType == "application/json" || contentType.hasPrefix("application/json;") else {
            throw DashboardError(code: .unsupportedMediaType, message: "send the body as application/json")
        }
    }

    /// Compares two tokens in time that depends only on their lengths.
    static func constantTimeEqual(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0 && !b.isEmpty
    }
}
