import CommunityInsights
import Logging
import NodeRuntime
import TestSupport
import Testing

@Suite("Demo network", .timeLimit(.minutes(2)))
struct DemoNetworkTests {
    @Test("A small demo on loopback: peers start, every synthetic report reaches the user's node, the dashboard fills")
    func smallDemo() async throws {
        let users = SyntheticPopulation(count: 6, seed: 5).users
        let options = DemoOptions(
            peerReports: users.map(\.privacyReport),
            userReport: SyntheticPopulation(count: 1, seed: 99).users[0].privacyReport,
            parameters: try DemoOptions.parameters(epochSeconds: 600),
            dashboardPort: 0,
            policy: DisplayPolicy(subPopulationMinimum: 1, networkMinimum: 3),
            maxConnections: 4,
            sendWindowSeconds: 0.5,
            fullDashboardGraceSeconds: 0
        )
        let events = Events<DemoEvent>()
        let demo = DemoNetwork(
            options: options,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            sink: { events.append($0) }
        )
        let running = Task { try await demo.run() }
        var started: [Int] = []
        var dashboard: String?
        let ready = await events.first { event -> (DemoReadiness, String)? in
            switch event {
            case .startingPeers(let count, let total):
                #expect(total == 6)
                started.append(count)
            case .dashboard(let url, _):
                dashboard = url
            case .ready(let readiness, let url, _):
                return (readiness, url)
            default:
                break
            }
            return nil
        }
        running.cancel()
        try? await running.value
        let (readiness, url) = try #require(ready)
        #expect(started == Array(1...6))
        #expect(dashboard == url)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(readiness.expectedReports == 12)
        #expect(readiness.reports == 12)
        #expect(readiness.hasHeadline)
    }
}
