import CommunityInsights
import Foundation
import PrivacyCore
import TestSupport
import Testing

@testable import Dashboard

@Suite("Dashboard body types")
struct DashboardJSONTests {
    func status(
        peers: Int,
        target: Int = 10,
        users: Int = 47,
        epochLength: Int = 604_800,
        joined: Bool = true,
        progress: Double = 0.5,
        network: DashboardNetworkKind = .public,
        previousEpoch: Bool = false
    ) -> DashboardStatus {
        DashboardStatus(
            connectedPeers: peers,
            targetPeers: target,
            usersReportedThisEpoch: users,
            network: network,
            networkLabel: "public",
            epochLengthSeconds: epochLength,
            epoch: 3,
            epochProgress: progress,
            lastUpdated: nil,
            joined: joined,
            sharing: joined,
            usersReportedInPreviousEpoch: previousEpoch
        )
    }

    @Test("The status line reads like the plan: peers, users reported, this week or this epoch")
    func statusLine() {
        #expect(StatusBody(self.status(peers: 12)).statusLine == "Connected to 12 peers · 47 users reported this week")
        #expect(
            StatusBody(self.status(peers: 1, users: 1, epochLength: 600)).statusLine
                == "Connected to 1 peer · 1 user reported this epoch"
        )
        #expect(
            StatusBody(self.status(peers: 5, users: 61, epochLength: 10, network: .demo)).statusLine
                == "Connected to 5 peers · 61 users reported this demo epoch (demo epoch = 10 s)"
        )
        #expect(
            StatusBody(self.status(peers: 5, users: 61, epochLength: 90, network: .demo)).statusLine
                == "Connected to 5 peers · 61 users reported this demo epoch (demo epoch = 1 min 30 s)"
        )
        #expect(StatusBody(self.status(peers: 0, joined: false)).statusLine == "Not joined to the privacy network")
    }

    @Test("While the figures are the previous, complete epoch's, the status line says last week or last epoch")
    func statusLineOfPreviousEpoch() {
        #expect(
            StatusBody(self.status(peers: 12, previousEpoch: true)).statusLine
                == "Connected to 12 peers · 47 users reported last week"
        )
        #expect(
            StatusBody(self.status(peers: 5, users: 61, epochLength: 10, network: .demo, previousEpoch: true))
                .statusLine == "Connected to 5 peers · 61 users reported last demo epoch (demo epoch = 10 s)"
        )
        #expect(
            StatusBody(self.status(peers: 3, users: 9, epochLength: 600, previousEpoch: true)).statusLine
                == "Connected to 3 peers · 9 users reported last epoch"
        )
    }

    @Test("Connectivity is offline, connecting, weak or good from peers against the connection target")
    func connectivity() {
        #expect(StatusBody(self.status(peers: 5, joined: false)).health.connectivity == "offline")
        #expect(StatusBody(self.status(peers: 0)).health.connectivity == "connecting")
        #expect(StatusBody(self.status(peers: 4, target: 10)).health.connectivity == "weak")
        #expect(StatusBody(self.status(peers: 5, target: 10)).health.connectivity == "good")
        #expect(StatusBody(self.status(peers: 1, target: 1)).health.connectivity == "good")
        let health = StatusBody(self.status(peers: 5, target: 10, progress: 0.25)).health
        #expect(health.summary == "Good connectivity (5 of 10 peers) · about 25% of this epoch's reports in")
        #expect(StatusBody(self.status(peers: 5, progress: .nan)).health.dataFreshness == 0)
        #expect(StatusBody(self.status(peers: 5, progress: 3)).epochProgress == 1)
    }

    @Test("Peer ids are shortened to six characters each side; short ids stay whole")
    func peerShortening() {
        #expect(DashboardPeer.shorten("12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo") == "12D3Ko…CVe2Xo")
        #expect(DashboardPeer.shorten("12345678901234") == "12345678901234")
        #expect(DashboardPeer.shorten("123456789012345") == "123456…012345")
        let peer = DashboardPeer(
            peerID: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
            direction: .inbound,
            pingMilliseconds: .infinity
        )
        #expect(PeersBody([peer]).peers.first?.pingMilliseconds == nil)
    }

    @Test("Each wire report is described in words")
    func wireReportDescriptions() {
        #expect(DisclosureBody.describe(.score(decile: 7)) == "score decile 7 (70–79)")
        #expect(DisclosureBody.describe(.score(decile: 9)) == "score decile 9 (90–100)")
        #expect(
            DisclosureBody.describe(.trackers(bucket: 2)) == "trackers per page: \(LocalProfile.trackersBucketLabel(2))"
        )
        #expect(
            DisclosureBody.describe(.risk(bucket: 0))
                == "share of high-risk trackers: \(LocalProfile.riskBucketLabel(0))"
        )
        #expect(DisclosureBody.describe(.category(.news)) == "site category: News")
        #expect(DisclosureBody.describe(.regionGrade(region: .europe, grade: .b)) == "region Europe, grade B")
        #expect(
            DisclosureBody.describe(.tool(.privacyBadger, isAGrade: true, usesTool: false))
                == "Privacy Badger: A-grade yes, uses it no"
        )
    }

    @Test("A settings change keeps the fields it does not name and checks the connection range")
    func settingsPatch() throws {
        let current = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, maxConnections: 12)
        let patch = SettingsPatch(shareRegionalData: true)
        let changed = try patch.applied(to: current)
        #expect(changed.joinPrivacyNetwork && changed.shareAnonymousData && changed.shareRegionalData)
        #expect(changed.maxConnections == 12 && changed.autoReconnect)
        #expect(throws: DashboardError.invalidSettings("")) {
            try SettingsPatch(maxConnections: 0).applied(to: current)
        }
        #expect(
            SettingsBody(current).explanations.map(\.key) == [
                "joinPrivacyNetwork", "shareAnonymousData", "shareRegionalData", "maxConnections", "autoReconnect",
            ]
        )
    }

    @Test("Tokens are 64 hex characters from the injected generator; the URL carries one in its fragment")
    func tokens() {
        var first = SeededGenerator(seed: 1)
        var second = SeededGenerator(seed: 1)
        var third = SeededGenerator(seed: 2)
        let token = DashboardServer.generateToken(using: &first)
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        #expect(token == DashboardServer.generateToken(using: &second))
        #expect(token != DashboardServer.generateToken(using: &third))
        #expect(DashboardServer.url(port: 8470, token: "abc") == "http://127.0.0.1:8470/#token=abc")
        #expect(DashboardServer.url(host: "::1", port: 1, token: "t") == "http://[::1]:1/#token=t")
    }

    @Test("Server-sent events are framed as `event:` and `data:` lines ending in a blank line")
    func eventFraming() {
        #expect(DashboardEvents.event(.statistics) == "event: update\ndata: {\"topic\":\"statistics\"}\n\n")
        #expect(DashboardEvents.hello.hasSuffix("\n\n"))
    }

    @Test("The Host check takes the loopback names with the bound port, nothing else")
    func bindingAcceptsHosts() {
        let binding = DashboardBinding(hostNames: ["127.0.0.1", "localhost", "[::1]"], port: nil)
        #expect(!binding.accepts(host: "127.0.0.1:0"))
        binding.bound(port: 51_234)
        #expect(binding.accepts(host: "127.0.0.1:51234"))
        #expect(binding.accepts(host: "[::1]:51234"))
        #expect(!binding.accepts(host: "[::1]"))
        #expect(!binding.accepts(host: "127.0.0.1:51235"))
        #expect(!binding.accepts(host: "127.0.0.1:+51234"))
        #expect(!binding.accepts(host: nil))
        #expect(binding.accepts(origin: "http://localhost:51234"))
        #expect(!binding.accepts(origin: "https://localhost:51234"))
    }
}
