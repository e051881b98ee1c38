import CommunityInsights
import Dashboard
import Foundation
import Logging
import PrivacyCore
import ServiceLifecycle
import Testing

/// The dashboard rendered by a real browser: headless Chromium (Debian's `chromium`; `.ci/run` installs
/// it in CI) loads the page, runs its script and listens to its event stream, and the tests read the
/// rendered DOM over the DevTools protocol. Screenshots go to `.build/artifacts/` for people to look at.
@Suite("Dashboard in headless Chromium", .tags(.integration), .serialized)
struct BrowserTests {
    @Test(
        "Over a scripted node the page shows live figures, follows a pushed update without reloading, shows peer text as text and requests nothing from another origin",
        .timeLimit(.minutes(3))
    )
    func scriptedNode() async throws {
        let source = await ScriptedDashboardSource.make()
        try await Self.withDashboard(over: source, finish: source.finish) { url in
            let browser = try await HeadlessChromium.launch()
            defer { browser.stop() }
            try await Self.checkScriptedPage(url: url, browser: browser, source: source)
        }
    }

    @Test(
        "On a node that just started (no local report, no peer, few reports) every section says what it waits for",
        .timeLimit(.minutes(2))
    )
    func freshNode() async throws {
        let source = await ScriptedDashboardSource.fresh()
        try await Self.withDashboard(over: source, finish: source.finish) { url in
            let browser = try await HeadlessChromium.launch()
            defer { browser.stop() }
            let page = try await DashboardBrowserPage.open(url, in: browser)
            let shown = try await page.snapshot(
                until: """
                    s => s.liveState === "Live" && s.rank === "No local report yet" && s.peers.length === 1
                      && s.regions.length > 0 && s.recommendations.length > 0
                    """,
                describedAs: "the empty states"
            )
            #expect(shown.statusLine.hasPrefix("Connected to 0 peers"))
            #expect(shown.healthLevel == "connecting")
            #expect(!shown.rankInterval.isEmpty)
            #expect(shown.yourGrade == "—")
            #expect(shown.tools.isEmpty && shown.toolsSummary.hasPrefix("No local report yet"))
            for (name, items) in [
                ("recommendations", shown.recommendations), ("areas", shown.areas), ("trends", shown.trends),
                ("leaderboard by grade", shown.leaderboardGrades), ("leaderboard by region", shown.leaderboardRegions),
                ("education", shown.education),
            ] {
                #expect(items.count == 1 && items[0].key == nil, "\(name): \(items)")
                #expect(items.first?.text.hasPrefix("Shown once the privacy tool has sent its local report") == true)
            }
            // Regions under 50 reports say how many more they need.
            let withheld = shown.regions.filter { $0.last?.wholeMatch(of: /needs \d+ more reports?/) != nil }
            #expect(!withheld.isEmpty, "regions: \(shown.regions)")
            #expect(shown.peers == [["No peer connected yet."]])
            #expect(shown.disclosureReports.count == 1)
            #expect(shown.disclosureSummary.map(\.text) == ["Summary", "none yet (no local report)"])
            #expect(page.errors.isEmpty, "page errors: \(page.errors)")
            let path = BrowserArtifacts.path("dashboard-empty.png")
            try await page.screenshot(width: 1280, height: 2400, to: path)
            print("empty dashboard screenshot: \(path.path)")
        }
    }

    /// How long after its start the real demo (default 60 peers, 10 s demo epochs) may take to show every panel with
    /// real figures. Issue 6 asks for one minute on a fresh machine: alone on a 2-core machine (debug build) it took
    /// 25 s, and 48 s with two release builds running beside it (load average 8); the bound leaves room for a slower
    /// CI machine, and the test prints the figure.
    static let demoPopulatedWithin: Duration = .seconds(90)

    @Test(
        "The real demo (phantom-trail demo, default 60 peers) fills every panel with real figures",
        .timeLimit(.minutes(5))
    )
    func demo() async throws {
        let binary = try IntegrationPaths.cliBinary()
        let started = ContinuousClock.now
        let demo = try Subprocess(
            executable: binary,
            arguments: ["demo", "--port", "0", "--events", "jsonl"]
        )
        defer { demo.stop() }
        let announced = try await demo.next("dashboard")
        let url = try #require(announced["url"] as? String, "the dashboard event has no url: \(announced)")
        #expect(url.hasPrefix("http://127.0.0.1:") && url.contains("/#token="))

        let browser = try await HeadlessChromium.launch()
        defer { browser.stop() }
        let page = try await DashboardBrowserPage.open(url, in: browser)
        let remaining = Self.demoPopulatedWithin - (ContinuousClock.now - started)
        let seconds = Int(remaining.components.seconds)
        // Real entries, not the waiting states: a tool's share among A-grade peers, a recommendation with its
        // evidence, a trend chart of at least two epochs, a region's typical grade.
        let shown = try await page.snapshot(
            until: """
                s => s.liveState === "Live" && /^Connected to [1-9]/.test(s.statusLine) && s.rank.startsWith("Better than")
                  && s.bars.length === 5 && s.tools.some(t => t.key !== null) && s.recommendations.some(r => r.key !== null)
                  && s.trendChart && s.trendPoints >= 2 && s.regions.some(r => r.length === 3 && /^[ABCDF]$/.test(r[2]))
                  && s.leaderboardGrades.some(g => g.key !== null) && s.peers.length > 0
                """,
            describedAs: "a fully populated demo dashboard",
            within: max(seconds, 1)
        )
        let populatedAfter = ContinuousClock.now - started
        #expect(populatedAfter <= Self.demoPopulatedWithin)

        let line = try #require(
            shown.statusLine.wholeMatch(
                of: /Connected to (\d+) peers? · (\d+) users? reported (?:this|last) demo epoch \(demo epoch = 10 s\)/
            ),
            "status line: \(shown.statusLine)"
        )
        let peers = try #require(Int(line.1))
        #expect(peers >= 1 && peers <= 60)
        #expect(try #require(Int(line.2)) >= 1)
        #expect(shown.badge.hasPrefix("Demo network"))
        #expect(["good", "weak"].contains(shown.healthLevel), "health: \(shown.healthLevel) \(shown.healthText)")
        #expect(shown.rank.wholeMatch(of: /Better than \d+% of peers/) != nil)
        #expect(shown.rankInterval.wholeMatch(of: /95% interval \d+–\d+% · \d+ score reports/) != nil)
        #expect(["A", "B", "C", "D", "F"].contains(shown.averageGrade), "average: \(shown.averageGrade)")
        #expect(["A", "B", "C", "D", "F"].contains(shown.yourGrade), "your grade: \(shown.yourGrade)")
        #expect(shown.bars.map(\.key) == ["A", "B", "C", "D", "F"])
        let tools = shown.tools.filter { $0.key != nil }
        #expect(!tools.isEmpty)
        for tool in tools {
            #expect(
                tool.text.wholeMatch(
                    of: /.+: \d+% of A-grade peers\s*95% interval \d+–\d+% · \d+ reports over the last \d+ epochs/
                )
                    != nil,
                "tool: \(tool.text)"
            )
        }
        let recommendations = shown.recommendations.filter { $0.key != nil }
        #expect(!recommendations.isEmpty)
        for recommendation in recommendations {
            #expect(
                recommendation.text.contains(/Evidence: \d+% \(95% interval \d+–\d+%, \d+ reports\)/),
                "recommendation: \(recommendation.text)"
            )
        }
        #expect(shown.trendPoints >= 2)
        #expect(shown.regionsNote.hasPrefix("Reports over the last"), "regions note: \(shown.regionsNote)")
        #expect(!shown.peers.isEmpty)
        #expect(shown.notice.isEmpty, "notice: \(shown.notice)")
        let toolTexts = tools.map(\.text).joined(separator: "; ")
        let recommendationTexts = recommendations.map(\.text).joined(separator: "; ")
        print("demo: fully populated dashboard \(populatedAfter) after start (60 peers): \(shown.statusLine)")
        print(
            "demo: \(shown.rank) \(shown.rankInterval) | trend points \(shown.trendPoints) | regions \(shown.regions)"
        )
        print("demo: tools \(toolTexts) | recommendations \(recommendationTexts)")

        // The page is live: the demo's next change (reports of the next epoch) arrives over the event stream
        // and the page follows without reloading.
        _ = try await page.evaluate("window.__phantomTrailMarker = 'demo'")
        let statusLine = shown.statusLine.replacingOccurrences(of: "\"", with: "")
        let freshness = shown.freshness.replacingOccurrences(of: "\"", with: "")
        let changed = try await page.snapshot(
            until: "s => s.statusLine !== \"\(statusLine)\" || s.freshness !== \"\(freshness)\"",
            describedAs: "a change pushed by the demo",
            within: 150
        )
        #expect(changed.marker == "demo")
        #expect(page.documentsLoaded == 1)

        // Once the demo says it is ready (every part shown for a few seconds), the page still shows it live.
        let ready = try await demo.next("demo_ready")
        let final = try await page.snapshot(
            until: "s => s.liveState === \"Live\" && s.rank.startsWith(\"Better than\")",
            describedAs: "the dashboard after demo_ready"
        )
        #expect(final.marker == "demo")
        // Round trips are measured every 2 s on the demo, and the page refreshes the peers after each ping round.
        let pinged = try await page.snapshot(
            until: "s => s.peers.some(p => p.length === 3 && / ms$/.test(p[2]))",
            describedAs: "a measured ping in the peers panel",
            within: 30
        )
        #expect(pinged.peers.contains { $0.count == 3 && $0[2].hasSuffix(" ms") })
        print("demo_ready: \(ready)")
        let screenshot = BrowserArtifacts.path("dashboard-demo.png")
        try await page.screenshot(width: 1280, height: 2400, to: screenshot)
        print("demo dashboard screenshot: \(screenshot.path) (1280x2400)")
        print("demo: page after demo_ready: \(final.statusLine) | \(final.healthText) | \(final.rank)")

        let requested = page.requestedURLs
        #expect(requested.contains("\(page.origin)/api/v1/events"))
        #expect(requested.allSatisfy { $0.hasPrefix("\(page.origin)/") }, "requests elsewhere: \(requested)")
        #expect(page.errors.isEmpty, "page errors: \(page.errors)")
        #expect(demo.stop() == 0)
    }

    /// Serves `source` on 127.0.0.1 (any port) while `body` runs with the dashboard's URL, then ends the
    /// event streams (`finish`) and shuts the server down gracefully.
    private static func withDashboard(
        over source: some DashboardDataSource,
        finish: () -> Void,
        _ body: (String) async throws -> Void
    ) async throws {
        var logger = Logger(label: "phantom-trail.browser-test")
        logger.logLevel = .warning
        let token = DashboardServer.generateToken()
        let server = try DashboardServer(
            configuration: .init(port: 0, token: token),
            dataSource: source,
            logger: logger
        )
        let (ports, reportPort) = AsyncStream.makeStream(of: Int.self)
        let services = ServiceGroup(
            configuration: .init(services: [server.makeApplication { port in reportPort.yield(port) }], logger: logger)
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { reportPort.finish() }
                try await services.run()
            }
            var outcome: Result<Void, any Error>
            do {
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next(), "the dashboard server did not start")
                try await body(DashboardServer.url(port: port, token: token))
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            finish()
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            try outcome.get()
        }
    }

    private static func checkScriptedPage(
        url: String,
        browser: HeadlessChromium,
        source: ScriptedDashboardSource
    ) async throws {
        let page = try await DashboardBrowserPage.open(url, in: browser)
        let first = source.phases[0]
        let shown = try await page.snapshot(
            until: """
                s => s.liveState === "Live" && s.rank.startsWith("Better than") && s.bars.length === 5
                  && s.tools.length > 0 && s.recommendations.length > 0 && s.peers.length === \(first.peers.count)
                  && s.trendChart && s.settings.length > 0 && s.regions.length > 0
                """,
            describedAs: "live figures"
        )

        // The page shows what the API says, which is what the node reported.
        let status = try await page.api("status")
        let comparison = try await page.api("comparison")
        let stats = try await page.api("stats")
        let insights = try await page.api("insights")
        #expect(shown.statusLine == status["statusLine"]?.string)
        #expect(shown.statusLine.contains("Connected to \(first.peers.count) peers"))
        #expect(shown.statusLine.contains("\(first.estimates.participants) users reported"))
        #expect(shown.healthLevel == status["health"]?["connectivity"]?.string)
        #expect(shown.healthText == status["health"]?["summary"]?.string)
        #expect(shown.freshness.contains("Epoch \(source.epoch)"))
        #expect(shown.notice.isEmpty)
        let betterThan = try #require(comparison["betterThan"]?["value"]?["value"]?.number)
        #expect(shown.rank == "Better than \(Int(betterThan.rounded()))% of peers")
        #expect(shown.averageGrade == stats["averageGrade"]?.string)
        #expect(shown.yourGrade == comparison["userGrade"]?.string)
        let grades = Self.list(stats["gradeDistribution"]?["value"]).compactMap { $0["grade"]?.string }
        #expect(shown.bars.map(\.key) == grades)
        #expect(grades == ["A", "B", "C", "D", "F"])
        let tools = Self.list(insights["popularTools"])
        let toolsWithShare = tools.filter { $0["shareAmongAGrade"] != nil && $0["shareAmongAGrade"] != .null }
        #expect(shown.tools.map(\.key) == toolsWithShare.prefix(5).map { $0["tool"]?.string })
        let recommendations = Self.list(insights["recommendations"])
        #expect(shown.recommendations.count == recommendations.count)
        for (item, recommendation) in zip(shown.recommendations, recommendations) {
            let message = try #require(recommendation["message"]?.string)
            #expect(item.text.hasPrefix(message))
            #expect(item.text.contains("Evidence:"))
        }
        #expect(shown.regions.count == Self.list(stats["regions"]).count)

        // Peer-derived text is text: the markup in a peer id and in the network label made no element.
        #expect(shown.peers.contains { $0.first == ScriptedDashboardSource.markupPeerID })
        #expect(shown.badge == "Demo network: \(ScriptedDashboardSource.networkLabel)")
        #expect(shown.badgeElements == 0)
        #expect(shown.peerMarkupElements == 0)
        #expect(shown.images == 0)

        // A change in the node reaches the open page over the event stream; the page does not reload.
        _ = try await page.evaluate("window.__phantomTrailMarker = 'before-update'")
        let second = source.phases[1]
        source.advance()
        let updated = try await page.snapshot(
            until: """
                s => s.peers.length === \(second.peers.count)
                  && s.statusLine.includes("\(second.estimates.participants) users reported")
                """,
            describedAs: "the pushed update"
        )
        #expect(updated.marker == "before-update")
        #expect(page.documentsLoaded == 1)
        #expect(updated.statusLine != shown.statusLine)
        #expect(updated.statusLine == (try await page.api("status"))["statusLine"]?.string)
        #expect(updated.statusLine.contains("Connected to \(second.peers.count) peers"))
        let newRank = try #require((try await page.api("comparison"))["betterThan"]?["value"]?["value"]?.number)
        #expect(updated.rank == "Better than \(Int(newRank.rounded()))% of peers")
        #expect(updated.liveState == "Live")

        // Everything came from the dashboard itself, and nothing went wrong in the page.
        let requested = page.requestedURLs
        #expect(requested.contains("\(page.origin)/api/v1/events"))
        #expect(requested.allSatisfy { $0.hasPrefix("\(page.origin)/") }, "requests elsewhere: \(requested)")
        #expect(page.errors.isEmpty, "page errors: \(page.errors)")

        // Keyboard: the skip link comes first, every control is reached, labelled and shows its focus.
        let stops = try await page.tabThrough(presses: 24)
        let firstStop = try #require(stops.first, "Tab focused nothing")
        #expect(firstStop.className.contains("skip") && firstStop.visible, "first Tab stop: \(firstStop)")
        #expect(!updated.settings.isEmpty)
        for input in updated.settings {
            #expect(stops.contains { $0.id == input.id }, "Tab never reaches \(input.id)")
            #expect(!input.label.isEmpty && !input.description.isEmpty, "\(input.id) lacks a label or explanation")
            #expect(!input.disabled, "\(input.id) is disabled although the URL carried the token")
        }
        #expect(stops.contains { $0.id == "settings-save" })
        #expect(stops.contains { $0.tag == "summary" }, "the lessons cannot be opened from the keyboard")
        for stop in stops {
            #expect(stop.outlineStyle != "none" && stop.outlineWidth >= 2, "no visible focus ring: \(stop)")
        }
        _ = try await page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")

        // The token from the URL lets the page change settings; the node's answer reaches the health line.
        let maxConnections = try await source.settings().maxConnections
        let changed = maxConnections == 7 ? 8 : 7
        _ = try await page.evaluate(
            """
            document.getElementById("setting-maxConnections").value = "\(changed)";
            document.getElementById("settings-save").click();
            """
        )
        let saved = try await page.snapshot(
            until: "s => s.settingsMessage === \"Saved.\" && s.healthText.includes(\"of \(changed) peers\")",
            describedAs: "the saved settings"
        )
        let stored = try await source.settings().maxConnections
        #expect(stored == changed)
        #expect(saved.marker == "before-update")

        // A tab opened without the token (the fragment) cannot change anything and says why.
        let origin = page.origin
        let tokenless = try await DashboardBrowserPage.open("\(origin)/", in: browser)
        let readOnly = try await tokenless.snapshot(
            until: "s => s.liveState === \"Live\" && s.settings.length > 0",
            describedAs: "the page without a token"
        )
        #expect(readOnly.settings.allSatisfy { $0.disabled })
        #expect(readOnly.settingsMessage.hasPrefix("Open the link the node printed"))

        // Contrast: every visible text meets WCAG AA against its background.
        let contrast = try await page.contrastProblems()
        #expect(contrast.checked > 100, "only \(contrast.checked) texts checked")
        #expect(contrast.problems.isEmpty, "low contrast: \(contrast.problems)")

        let wide = BrowserArtifacts.path("dashboard.png")
        try await page.screenshot(width: 1280, height: 2400, to: wide)
        let narrow = BrowserArtifacts.path("dashboard-narrow.png")
        let narrowSize = try await page.screenshot(width: 400, height: nil, to: narrow)
        #expect(narrowSize.scrollWidth <= 400, "the page is wider than a 400 px window")
        print("dashboard screenshots: \(wide.path) (1280x2400), \(narrow.path) (400 px wide)")
        print(
            "page shows: \(updated.statusLine) | \(updated.healthText) | \(updated.rank) | average \(updated.averageGrade)"
        )
        print("keyboard: \(stops.count) Tab stops; contrast: \(contrast.checked) texts checked")
    }

    /// The elements of a JSON array (empty for anything else).
    static func list(_ value: DevToolsJSON?) -> [DevToolsJSON] {
        guard case .array(let elements) = value else { return [] }
        return elements
    }
}

/// Where the browser tests leave their screenshots: `.build/artifacts/` of the package (ignored by git).
enum BrowserArtifacts {
    static func path(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/artifacts")
            .appendingPathComponent(name)
    }
}
