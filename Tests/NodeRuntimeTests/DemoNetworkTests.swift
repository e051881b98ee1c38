import CommunityInsights
import Logging
import NodeRuntime
import TestSupport
import Testing

@Suite("Demo network", .timeLimit(.minutes(2)))
struct DemoNetworkTests {
    @Test("A small demo on loopback: peers start, the dashboard listens, every synthetic report arrives")
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
            fullDashboardGraceSeconds: 600
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
        // Six users cannot fill every part in one long epoch, so the demo is not ready before the grace time; the
        // report count shows every synthetic report arriving.
        let arrived = await events.first { event -> Int? in
            switch event {
            case .startingPeers(let count, let total):
                #expect(total == 6)
                started.append(count)
            case .dashboard(let url, _):
                dashboard = url
            case .reports(let received, let expected):
                #expect(expected == 12)
                if received == expected { return received }
            case .ready:
                Issue.record("ready before the grace time with six users: \(event)")
            default:
                break
            }
            return nil
        }
        running.cancel()
        try? await running.value
        #expect(arrived == 12)
        #expect(started == Array(1...6))
        #expect(dashboard?.hasPrefix("http://127.0.0.1:") == true)
    }
}
