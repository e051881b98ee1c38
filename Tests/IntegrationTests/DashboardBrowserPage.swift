import Foundation
import NIOCore

/// The dashboard open in a tab of a ``HeadlessChromium``: waits for the rendered page to reach a state,
/// reads it (``DashboardPageSnapshot``), takes screenshots, and reports every request the tab made and
/// every error it logged.
struct DashboardBrowserPage: Sendable {
    let browser: HeadlessChromium
    /// The DevTools session of the tab.
    let session: String
    /// `http://127.0.0.1:PORT` of the dashboard.
    let origin: String

    /// Opens a new tab, turns on the page, runtime, network and log domains, and loads `url`.
    static func open(_ url: String, in browser: HeadlessChromium) async throws -> DashboardBrowserPage {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw IntegrationFailure(description: "not a dashboard URL: \(url)")
        }
        let origin = "http://\(host):\(port)"
        let devTools = browser.devTools
        let target = try await devTools.send("Target.createTarget", ["url": .string("about:blank")])
        guard let targetID = target["targetId"]?.string else {
            throw IntegrationFailure(description: "Target.createTarget gave no target id: \(target)")
        }
        let attached = try await devTools.send(
            "Target.attachToTarget",
            ["targetId": .string(targetID), "flatten": .bool(true)]
        )
        guard let session = attached["sessionId"]?.string else {
            throw IntegrationFailure(description: "Target.attachToTarget gave no session: \(attached)")
        }
        for domain in ["Page", "Runtime", "Network", "Log"] {
            try await devTools.send("\(domain).enable", session: session)
        }
        let navigated = devTools.expect("Page.frameNavigated") { event in
            event.sessionID == session && event.params["frame"]?["parentId"] == nil
                && event.params["frame"]?["url"]?.string?.hasPrefix(origin) == true
        }
        let answer = try await devTools.send("Page.navigate", ["url": .string(url)], session: session)
        if let error = answer["errorText"]?.string {
            throw IntegrationFailure(description: "the browser could not load \(url): \(error)")
        }
        _ = try await navigated.get()
        return DashboardBrowserPage(browser: browser, session: session, origin: origin)
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    func evaluate(_ expression: String, timeout: TimeAmount = .seconds(30)) async throws -> DevToolsJSON {
        let result = try await self.browser.devTools.send(
            "Runtime.evaluate",
            ["expression": .string(expression), "awaitPromise": .bool(true), "returnByValue": .bool(true)],
            session: self.session,
            timeout: timeout
        )
        if let exception = result["exceptionDetails"] {
            let text = exception["exception"]?["description"]?.string ?? exception["text"]?.string ?? "\(exception)"
            throw IntegrationFailure(description: "the page threw: \(text)")
        }
        return result["result"]?["value"] ?? .null
    }

    /// Waits until `condition` (a JavaScript function of the snapshot, e.g. `s => s.rank !== "—"`) holds,
    /// checking every 100 ms in the page for at most `seconds`, and returns the snapshot that satisfied it.
    /// - Throws: ``IntegrationFailure`` naming `what` and showing the last snapshot when it never holds.
    func snapshot(
        until condition: String,
        describedAs what: String,
        within seconds: Int = 30
    ) async throws -> DashboardPageSnapshot {
        let expression = """
            (() => {
              \(Self.snapshotFunction)
              const condition = \(condition);
              const deadline = Date.now() + \(seconds * 1000);
              return new Promise((resolve) => {
                const check = () => {
                  let s = null, met = false;
                  try { s = snapshot(); met = Boolean(condition(s)); } catch (e) { s = s || { error: String(e) }; }
                  if (met || Date.now() >= deadline) { resolve(JSON.stringify({ met: met, snapshot: s })); }
                  else { setTimeout(check, 100); }
                };
                check();
              });
            })()
            """
        let value = try await self.evaluate(expression, timeout: .seconds(Int64(seconds) + 30))
        guard let text = value.string else {
            throw IntegrationFailure(description: "the snapshot script returned \(value)")
        }
        struct Outcome: Decodable {
            var met: Bool
        }
        struct Snapshot: Decodable {
            var snapshot: DashboardPageSnapshot
        }
        let data = Data(text.utf8)
        guard try JSONDecoder().decode(Outcome.self, from: data).met else {
            throw IntegrationFailure(
                description: "the page did not show \(what) within \(seconds) s; last state: \(text.prefix(6000))"
            )
        }
        do {
            return try JSONDecoder().decode(Snapshot.self, from: data).snapshot
        } catch {
            throw IntegrationFailure(description: "unexpected snapshot (\(error)): \(text.prefix(6000))")
        }
    }

    /// The JSON body of `GET /api/v1/<path>` fetched by the page itself (same origin, no token).
    func api(_ path: String) async throws -> DevToolsJSON {
        let value = try await self.evaluate(
            "fetch('/api/v1/\(path)', { cache: 'no-store' }).then(r => r.text())"
        )
        guard let text = value.string else { throw IntegrationFailure(description: "GET \(path) gave \(value)") }
        return try JSONDecoder().decode(DevToolsJSON.self, from: Data(text.utf8))
    }

    /// Lays the page out `width` CSS pixels wide and saves a PNG of `height` pixels (the whole page
    /// when `height` is nil, up to 12 000) at `path`; returns the page's width and height at that size.
    @discardableResult
    func screenshot(width: Int, height: Int?, to path: URL) async throws -> (scrollWidth: Int, scrollHeight: Int) {
        let devTools = self.browser.devTools
        // A tab in the background is not painted: bring this one to the front first.
        try await devTools.send("Page.bringToFront", session: self.session)
        func resize(_ height: Int) async throws {
            try await devTools.send(
                "Emulation.setDeviceMetricsOverride",
                [
                    "width": .number(Double(width)), "height": .number(Double(height)),
                    "deviceScaleFactor": .number(1), "mobile": .bool(false),
                ],
                session: self.session
            )
        }
        try await resize(height ?? 2400)
        let size = try await self.evaluate(
            """
            new Promise((resolve) => requestAnimationFrame(() => resolve(
              [document.documentElement.scrollWidth, document.documentElement.scrollHeight])))
            """
        )
        guard case .array(let dimensions) = size, dimensions.count == 2,
            let scrollWidth = dimensions[0].number, let scrollHeight = dimensions[1].number
        else { throw IntegrationFailure(description: "could not measure the page: \(size)") }
        if height == nil {
            try await resize(min(Int(scrollHeight), 12_000))
        }
        let shot = try await devTools.send(
            "Page.captureScreenshot",
            ["format": .string("png")],
            session: self.session,
            timeout: .seconds(60)
        )
        guard let base64 = shot["data"]?.string, let png = Data(base64Encoded: base64) else {
            throw IntegrationFailure(description: "Page.captureScreenshot returned no image")
        }
        try FileManager.default.createDirectory(
            at: path.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try png.write(to: path)
        return (Int(scrollWidth), Int(scrollHeight))
    }

    /// One element that keyboard focus reached: what it is and how its focus is drawn.
    struct FocusStop: Decodable, Sendable {
        var tag: String
        var id: String
        var className: String
        var text: String
        var label: String
        var outlineStyle: String
        var outlineWidth: Double
        var visible: Bool
    }

    /// Presses Tab `presses` times (focus emulated as if the window had it) and returns where focus went
    /// after each press.
    func tabThrough(presses: Int) async throws -> [FocusStop] {
        let devTools = self.browser.devTools
        try await devTools.send("Emulation.setFocusEmulationEnabled", ["enabled": .bool(true)], session: self.session)
        _ = try await self.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        var stops: [FocusStop] = []
        for _ in 0..<presses {
            for type in ["keyDown", "keyUp"] {
                try await devTools.send(
                    "Input.dispatchKeyEvent",
                    [
                        "type": .string(type), "key": .string("Tab"), "code": .string("Tab"),
                        "windowsVirtualKeyCode": .number(9), "nativeVirtualKeyCode": .number(9),
                    ],
                    session: self.session
                )
            }
            let value = try await self.evaluate(
                #"""
                (() => {
                  const e = document.activeElement;
                  if (!e || e === document.body) { return JSON.stringify(null); }
                  const style = getComputedStyle(e);
                  const rect = e.getBoundingClientRect();
                  const label = e.labels && e.labels.length ? e.labels[0].textContent : (e.getAttribute("aria-label") || "");
                  return JSON.stringify({ tag: e.tagName.toLowerCase(), id: e.id || "", className: String(e.className || ""),
                    text: (e.textContent || "").replace(/\s+/g, " ").trim().slice(0, 80), label: label.replace(/\s+/g, " ").trim(),
                    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
                    visible: rect.width > 0 && rect.height > 0 && rect.right > 0 && rect.left < window.innerWidth });
                })()
                """#
            )
            guard let text = value.string else { continue }
            if let stop = try JSONDecoder().decode(FocusStop?.self, from: Data(text.utf8)) {
                stops.append(stop)
            }
        }
        return stops
    }

    /// How many visible text elements were checked, and those whose colour against their background is
    /// below the WCAG AA ratio (4.5, or 3 for large text), each described with its colours and ratio.
    func contrastProblems() async throws -> (checked: Int, problems: [String]) {
        let value = try await self.evaluate(
            #"""
            (() => {
              const parse = (c) => {
                const m = /rgba?\(([^)]+)\)/.exec(c || "");
                if (!m) { return null; }
                const p = m[1].split(/[\s,\/]+/).filter((x) => x).map(Number);
                return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
              };
              const blend = (top, bottom, alpha) => ({ r: top.r * alpha + bottom.r * (1 - alpha),
                g: top.g * alpha + bottom.g * (1 - alpha), b: top.b * alpha + bottom.b * (1 - alpha), a: 1 });
              const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
              const background = (node) => {
                const layers = [];
                for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
                  const c = parse(getComputedStyle(n).backgroundColor);
                  if (c && c.a > 0) { layers.push(c); if (c.a >= 1) { break; } }
                }
                let result = { r: 255, g: 255, b: 255, a: 1 };
                for (let i = layers.length - 1; i >= 0; i--) { result = blend(layers[i], result, layers[i].a); }
                return result;
              };
              const problems = [];
              let checked = 0;
              const seen = new Set();
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              for (let t = walker.nextNode(); t; t = walker.nextNode()) {
                const node = t.parentElement;
                if (!t.textContent.trim() || !node || seen.has(node)) { continue; }
                seen.add(node);
                if (node.closest("svg, [hidden], .sr-only, button:disabled, input:disabled")) { continue; }
                const style = getComputedStyle(node);
                const rect = node.getBoundingClientRect();
                if (rect.width < 1 || rect.height < 1 || rect.right < 0 || style.visibility === "hidden") { continue; }
                checked += 1;
                let opacity = 1;
                for (let n = node; n && n.nodeType === 1; n = n.parentElement) { opacity *= Number(getComputedStyle(n).opacity); }
                const back = background(node);
                const fore = parse(style.color);
                const shown = blend(fore, back, fore.a * opacity);
                const [hi, lo] = [luminance(shown), luminance(back)].sort((x, y) => y - x);
                const ratio = (hi + 0.05) / (lo + 0.05);
                const size = parseFloat(style.fontSize);
                const required = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
                if (ratio < required) {
                  problems.push("'" + t.textContent.trim().slice(0, 40) + "' " + style.color + " on rgb(" + [back.r, back.g, back.b].map(Math.round).join(",")
                    + "): " + ratio.toFixed(2) + " < " + required);
                }
              }
              return JSON.stringify({ checked: checked, problems: problems });
            })()
            """#
        )
        guard let text = value.string else { throw IntegrationFailure(description: "contrast check gave \(value)") }
        struct Outcome: Decodable {
            var checked: Int
            var problems: [String]
        }
        let outcome = try JSONDecoder().decode(Outcome.self, from: Data(text.utf8))
        return (outcome.checked, outcome.problems)
    }

    /// Every URL the tab requested.
    var requestedURLs: [String] {
        self.browser.devTools.events.events.compactMap { event in
            guard event.sessionID == self.session, event.method == "Network.requestWillBeSent" else { return nil }
            return event.params["request"]?["url"]?.string
        }
    }

    /// Uncaught exceptions, console errors and error log entries (content security policy violations
    /// among them) of the tab.
    var errors: [String] {
        self.browser.devTools.events.events.compactMap { event in
            guard event.sessionID == self.session else { return nil }
            switch event.method {
            case "Runtime.exceptionThrown":
                return "exception: \(event.params["exceptionDetails"] ?? .null)"
            case "Runtime.consoleAPICalled" where event.params["type"]?.string == "error":
                return "console.error: \(event.params["args"] ?? .null)"
            case "Log.entryAdded" where event.params["entry"]?["level"]?.string == "error":
                let entry = event.params["entry"]
                return "log: \(entry?["text"]?.string ?? "") \(entry?["url"]?.string ?? "")"
            default:
                return nil
            }
        }
    }

    /// Main-frame documents the tab loaded (a reload or navigation adds one).
    var documentsLoaded: Int {
        self.browser.devTools.events.events.filter { event in
            event.sessionID == self.session && event.method == "Page.frameNavigated"
                && event.params["frame"]?["parentId"] == nil
        }.count
    }

    /// Reads the rendered page into a plain object (see ``DashboardPageSnapshot``).
    static let snapshotFunction = #"""
        function snapshot() {
          const q = (id) => document.getElementById(id);
          const clean = (t) => (t || "").replace(/\s+/g, " ").trim();
          const text = (id) => q(id) ? clean(q(id).textContent) : "";
          const items = (id, attr) => Array.from(q(id) ? q(id).children : []).map((n) => ({
            key: attr ? n.getAttribute(attr) : null, text: clean(n.textContent) }));
          const rows = (id) => Array.from(q(id) ? q(id).rows : []).map((r) => Array.from(r.cells).map((c) => clean(c.textContent)));
          const described = (input) => {
            const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x);
            return clean(ids.map((x) => q(x) ? q(x).textContent : "").join(" "));
          };
          return {
            href: location.href,
            statusLine: text("status-line"),
            badge: text("network-badge"),
            badgeElements: q("network-badge").children.length,
            healthLevel: q("health").getAttribute("data-level") || "",
            healthText: text("health-text"),
            freshness: text("freshness"),
            liveState: text("live-state"),
            notice: q("notice").hidden ? "" : text("notice"),
            rank: text("rank"),
            rankInterval: text("rank-interval"),
            averageGrade: text("average-grade"),
            averageScore: text("average-score"),
            yourGrade: text("your-grade"),
            yourScore: text("your-score"),
            average: text("average"),
            bars: Array.from(q("grade-chart").querySelectorAll(".bar-col")).map((c) => ({
              key: c.getAttribute("data-grade"), text: clean(c.textContent) })),
            chartLabel: q("grade-chart").getAttribute("aria-label") || "",
            toolsSummary: text("tools-summary"),
            tools: items("tools", "data-tool"),
            recommendations: items("recommendations", "data-kind"),
            areas: items("areas", "data-area"),
            trends: items("trends"),
            trendChart: q("trend-chart").querySelector("svg polyline") !== null,
            trendPoints: q("trend-chart").querySelectorAll("svg circle").length,
            regionsNote: text("regions-note"),
            regions: rows("regions"),
            leaderboardGrades: items("leaderboard-grades", "data-grade"),
            leaderboardRegions: items("leaderboard-regions", "data-region"),
            education: items("education", "data-topic"),
            settings: Array.from(document.querySelectorAll("#settings-fields input")).map((i) => ({
              id: i.id, type: i.type, label: i.labels && i.labels.length ? clean(i.labels[0].textContent) : "",
              description: described(i), disabled: i.disabled })),
            disclosureSummary: items("disclosure-summary"),
            disclosureReports: rows("disclosure-reports"),
            settingsMessage: text("settings-message"),
            peersSummary: text("peers-summary"),
            peers: rows("peers"),
            peerMarkupElements: q("peers").querySelectorAll("img, script, b, i, svg").length,
            images: document.images.length,
            marker: window.__phantomTrailMarker || null,
            scrollWidth: document.documentElement.scrollWidth,
            viewportWidth: window.innerWidth
          };
        }
        """#
}

/// What the rendered dashboard shows, read from the DOM (texts with whitespace collapsed).
struct DashboardPageSnapshot: Decodable, Sendable {
    /// One list entry (or chart column) and its key attribute (`data-tool`, `data-kind`, …).
    struct Item: Decodable, Sendable {
        var key: String?
        var text: String
    }

    /// One settings input with the text of its label and of its description.
    struct Input: Decodable, Sendable {
        var id: String
        var type: String
        var label: String
        var description: String
        var disabled: Bool
    }

    var href: String
    var statusLine: String
    var badge: String
    var badgeElements: Int
    var healthLevel: String
    var healthText: String
    var freshness: String
    var liveState: String
    var notice: String
    var rank: String
    var rankInterval: String
    var averageGrade: String
    var averageScore: String
    var yourGrade: String
    var yourScore: String
    var average: String
    var bars: [Item]
    var chartLabel: String
    var toolsSummary: String
    var tools: [Item]
    var recommendations: [Item]
    var areas: [Item]
    var trends: [Item]
    var trendChart: Bool
    /// Points of the trend chart (one per stored epoch with enough reports).
    var trendPoints: Int
    /// How many epochs the regional (and tool) figures pool.
    var regionsNote: String
    var regions: [[String]]
    var leaderboardGrades: [Item]
    var leaderboardRegions: [Item]
    var education: [Item]
    var settings: [Input]
    var disclosureSummary: [Item]
    var disclosureReports: [[String]]
    var settingsMessage: String
    var peersSummary: String
    var peers: [[String]]
    var peerMarkupElements: Int
    var images: Int
    var marker: String?
    var scrollWidth: Int
    var viewportWidth: Int
}
