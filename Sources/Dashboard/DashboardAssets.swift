/// The page and its assets, embedded as string literals: nothing is fetched from the internet and there is
/// no resource bundle to install. The page has no inline script or style (the content security policy
/// forbids both); `dashboard.js` fills it in and sets every peer-derived text with `textContent`.
///
/// Element ids and `data-testid`s are stable: the browser test reads them.
enum DashboardAssets {
    /// `GET /`.
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <link rel="icon" href="data:,">
        <title>Phantom Trail Community</title>
        <link rel="stylesheet" href="/assets/dashboard.css">
        <script src="/assets/dashboard.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to the figures</a>
        <header class="top" role="banner">
          <div class="brand">
            <h1>Phantom Trail Community</h1>
            <span id="network-badge" class="badge" data-testid="network-badge">network</span>
          </div>
          <p id="status-line" class="status-line" data-testid="status-line" role="status" aria-live="polite">
            Connecting to the local node…</p>
          <div class="health-row">
            <span id="health" class="health" data-testid="health" data-level="unknown">
              <span class="dot" aria-hidden="true"></span><span id="health-text">Health: unknown</span></span>
            <span id="freshness" class="freshness" data-testid="freshness"></span>
            <span id="live-state" class="live-state" data-testid="live-state" aria-live="polite">not live yet</span>
          </div>
        </header>
        <main id="main" tabindex="-1">
          <p id="notice" class="notice" data-testid="notice" role="alert" hidden></p>
          <div class="grid">
            <section id="rank-card" class="card" aria-labelledby="rank-title">
              <h2 id="rank-title">Your rank</h2>
              <p id="rank" class="big" data-testid="rank" aria-live="polite">—</p>
              <p id="rank-interval" class="muted" data-testid="rank-interval"></p>
            </section>
            <section id="average-card" class="card" aria-labelledby="average-title">
              <h2 id="average-title">Network average and you</h2>
              <div class="pair">
                <div class="tile"><span class="tile-label">Network average</span>
                  <span id="average-grade" class="grade" data-testid="average-grade">—</span>
                  <span id="average-score" class="muted" data-testid="average-score"></span></div>
                <div class="tile"><span class="tile-label">Your score</span>
                  <span id="your-grade" class="grade" data-testid="your-grade">—</span>
                  <span id="your-score" class="muted" data-testid="your-score"></span></div>
              </div>
              <p id="average" data-testid="average"></p>
            </section>
            <section id="distribution-card" class="card" aria-labelledby="distribution-title">
              <h2 id="distribution-title">Grade distribution</h2>
              <div id="grade-chart" class="bars" data-testid="grade-chart" role="img" aria-label="Grade distribution">
              </div>
              <p id="distribution-note" class="muted"></p>
            </section>
            <section id="tools-card" class="card" aria-labelledby="tools-title">
              <h2 id="tools-title">Popular tools among A-grade peers</h2>
              <p id="tools-summary" data-testid="tools-summary"></p>
              <ul id="tools" class="meter-list" data-testid="tools"></ul>
            </section>
            <section id="recommendations-card" class="card" aria-labelledby="recommendations-title">
              <h2 id="recommendations-title">Recommendations</h2>
              <ul id="recommendations" class="plain-list" data-testid="recommendations"></ul>
            </section>
            <section id="areas-card" class="card" aria-labelledby="areas-title">
              <h2 id="areas-title">Where you stand</h2>
              <ul id="areas" class="plain-list" data-testid="areas"></ul>
            </section>
            <section id="trends-card" class="card" aria-labelledby="trends-title">
              <h2 id="trends-title">Trends</h2>
              <div id="trend-chart" class="trend-chart" data-testid="trend-chart" role="img"
                aria-label="Network average by epoch"></div>
              <ul id="trends" class="plain-list" data-testid="trends"></ul>
            </section>
            <section id="regions-card" class="card" aria-labelledby="regions-title">
              <h2 id="regions-title">Regional statistics</h2>
              <p id="regions-note" class="muted" data-testid="regions-note"></p>
              <table class="table" data-testid="regions-table">
                <caption class="sr-only">Reports and typical grade per region</caption>
                <thead><tr><th scope="col">Region</th><th scope="col">Reports</th><th scope="col">Typical grade</th>
                </tr></thead>
                <tbody id="regions" data-testid="regions"></tbody>
              </table>
            </section>
            <section id="leaderboard-card" class="card" aria-labelledby="leaderboard-title">
              <h2 id="leaderboard-title">Leaderboard</h2>
              <p class="muted">Groups only, never individuals.</p>
              <h3>By grade</h3>
              <ol id="leaderboard-grades" class="plain-list" data-testid="leaderboard-grades"></ol>
              <h3>By region (share of A or B grades)</h3>
              <ol id="leaderboard-regions" class="plain-list" data-testid="leaderboard-regions"></ol>
            </section>
            <section id="education-card" class="card wide" aria-labelledby="education-title">
              <h2 id="education-title">Learn: your weak spots first</h2>
              <div id="education" data-testid="education"></div>
            </section>
            <section id="settings-card" class="card" aria-labelledby="settings-title">
              <h2 id="settings-title">Network settings</h2>
              <form id="settings-form" data-testid="settings-form" novalidate>
                <div id="settings-fields"></div>
                <button id="settings-save" type="submit" data-testid="settings-save">Save settings</button>
                <p id="settings-message" class="muted" role="status" aria-live="polite"></p>
              </form>
            </section>
            <section id="disclosure-card" class="card" aria-labelledby="disclosure-title">
              <h2 id="disclosure-title">What leaves this device</h2>
              <p id="disclosure-explanation" class="muted"></p>
              <h3>Anonymized summary (stays here)</h3>
              <dl id="disclosure-summary" class="summary" data-testid="disclosure-summary"></dl>
              <h3>Wire reports this epoch</h3>
              <table class="table" data-testid="disclosure-table">
                <caption class="sr-only">The randomized reports of this epoch</caption>
                <thead><tr><th scope="col">Type</th><th scope="col">Randomized value</th><th scope="col">When</th>
                </tr></thead>
                <tbody id="disclosure-reports" data-testid="disclosure-reports"></tbody>
              </table>
            </section>
            <section id="peers-card" class="card" aria-labelledby="peers-title">
              <h2 id="peers-title">Connected peers</h2>
              <p id="peers-summary" class="muted" data-testid="peers-summary"></p>
              <table class="table" data-testid="peers-table">
                <caption class="sr-only">Connected peers: short id, direction and ping</caption>
                <thead><tr><th scope="col">Peer</th><th scope="col">Direction</th><th scope="col">Ping</th></tr></thead>
                <tbody id="peers" data-testid="peers"></tbody>
              </table>
            </section>
          </div>
        </main>
        <footer class="foot"><p>Figures are estimated from randomized reports and shown with 95% intervals.
          Groups with too few reports are withheld until enough arrive.</p></footer>
        </body>
        </html>
        """#
}
