import Dashboard
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite("Dashboard on a real socket")
struct DashboardLiveTests {
    @Test("Bound to 127.0.0.1 on any port: the Host must name that port; the port is reported", .timeLimit(.minutes(1)))
    func liveServer() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardServer(
            configuration: .init(port: 0, token: DashboardTesting.token),
            dataSource: FakeDashboardSource(fixture: fixture)
        )
        let reported = ReportedPort()
        let application = server.makeApplication { port in reported.set(port) }
        try await application.test(.live) { client in
            let port = try #require(client.port)
            #expect(reported.value == port)
            // The live test client names "localhost" without the port: refused like a rebinding attempt.
            let refused = try await client.execute(uri: "/api/v1/status", method: .get)
            #expect(refused.status == .misdirectedRequest)

            let direct = TestClient(host: "127.0.0.1", port: port, configuration: .init())
            direct.connect()
            let good = try await direct.execute(
                TestClient.Request("/api/v1/status", method: .get, authority: "127.0.0.1:\(port)")
            )
            #expect(good.head.status == .ok)
            let rebound = try await direct.execute(
                TestClient.Request("/api/v1/status", method: .get, authority: "attacker.example:\(port)")
            )
            #expect(rebound.head.status == .misdirectedRequest)
            try await direct.shutdown()
        }
    }
}

/// The port the server reported, written from the server's task.
final class ReportedPort: Sendable {
    private let port = Mutex<Int?>(nil)

    func set(_ value: Int) { self.port.withLock { $0 = value } }

    var value: Int? { self.port.withLock { $0 } }
}
