extension DashboardAssets {
    /// `GET /assets/dashboard.css`: system fonts, high contrast, one column on narrow windows.
    static let css = #"""
        :root {
          --bg: #f5f6f8; --card: #ffffff; --text: #16191d; --muted: #4a525c; --line: #d3d8de;
          --accent: #1f4fb8; --good: #17723a; --warn: #8a5a00; --bad: #b3261e; --you: #fff2c2;
          --a: #17723a; --b: #3f7d20; --c: #8a6d00; --d: #a14f00; --f: #b3261e;
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--text);
          font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: 8px; z-index: 2; }
        .skip:focus { left: 8px; }
        :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
          white-space: nowrap; }
        .top { background: #102a5c; color: #ffffff; padding: 16px 24px; }
        .brand { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; }
        h1 { font-size: 1.5rem; margin: 0; }
        h2 { font-size: 1.15rem; margin: 0 0 8px; }
        h3 { font-size: 1rem; margin: 12px 0 4px; }
        .badge { border-radius: 999px; padding: 2px 10px; font-size: 0.85rem; font-weight: 600;
          background: #dfe8ff; color: #102a5c; }
        .badge[data-kind="demo"] { background: #ffe08a; color: #3d2c00; }
        .status-line { font-size: 1.2rem; margin: 8px 0 4px; }
        .health-row { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; font-size: 0.95rem; }
        .health { display: inline-flex; align-items: center; gap: 6px; }
        .dot { width: 12px; height: 12px; border-radius: 50%; background: #9aa3ad; border: 2px solid #ffffff; }
        .health[data-level="good"] .dot { background: #3ccf6e; }
        .health[data-level="weak"] .dot { background: #ffc83d; }
        .health[data-level="connecting"] .dot { background: #ffc83d; }
        .health[data-level="offline"] .dot { background: #ff6b5e; }
        .live-state { opacity: 0.9; }
        main { padding: 16px; max-width: 1280px; margin: 0 auto; }
        main:focus { outline: none; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 16px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px;
          min-width: 0; }
        .card.wide { grid-column: 1 / -1; }
        .big { font-size: 1.6rem; font-weight: 700; margin: 4px 0; }
        .muted { color: var(--muted); }
        .notice { background: #fff4d6; border: 1px solid #e0b84a; border-radius: 8px; padding: 10px 14px; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
        .tile { display: flex; flex-direction: column; align-items: flex-start; border: 1px solid var(--line);
          border-radius: 8px; padding: 10px; }
        .tile-label { font-size: 0.9rem; color: var(--muted); }
        .grade { font-size: 2.2rem; font-weight: 800; line-height: 1.1; }
        .grade[data-grade="A"] { color: var(--a); } .grade[data-grade="B"] { color: var(--b); }
        .grade[data-grade="C"] { color: var(--c); } .grade[data-grade="D"] { color: var(--d); }
        .grade[data-grade="F"] { color: var(--f); }
        .bars { display: flex; align-items: flex-end; gap: 10px; height: 180px; padding-top: 8px;
          border-bottom: 1px solid var(--line); }
        .bar-col { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: flex-end;
          height: 100%; min-width: 0; }
        .bar { width: 100%; max-width: 56px; background: var(--accent); border-radius: 4px 4px 0 0; min-height: 2px; }
        .bar-col[data-you="true"] .bar { background: #c47f00; }
        .bar-value { font-size: 0.85rem; }
        .bar-label { font-weight: 700; }
        .meter-list, .plain-list { list-style: none; margin: 0; padding: 0; }
        .meter-list li { margin: 8px 0; }
        .meter { height: 10px; background: #e6e9ee; border-radius: 5px; overflow: hidden; margin-top: 3px; }
        .meter > span { display: block; height: 100%; background: var(--good); }
        .plain-list > li { border-top: 1px solid var(--line); padding: 8px 0; }
        .plain-list > li:first-child { border-top: none; }
        .evidence { font-size: 0.9rem; color: var(--muted); }
        .you { background: var(--you); border-radius: 4px; padding: 0 4px; font-weight: 600; }
        .table { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
        .table thead th { white-space: nowrap; }
        .table th, .table td { text-align: left; padding: 6px 4px; border-bottom: 1px solid var(--line);
          overflow-wrap: break-word; }
        .pending { color: var(--warn); }
        .trend-chart svg { width: 100%; height: auto; display: block; }
        .trend-line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
        .trend-band { fill: #c9d6f5; }
        .trend-point { fill: var(--accent); }
        .trend-axis { stroke: var(--line); }
        .trend-label { font-size: 11px; fill: var(--muted); }
        details { border-top: 1px solid var(--line); padding: 8px 0; }
        details[data-weak="true"] summary::after { content: " · your weak spot"; color: var(--warn); font-weight: 600; }
        summary { cursor: pointer; font-weight: 600; }
        .field { margin: 10px 0 14px; }
        .field label { font-weight: 600; }
        .field input[type="number"] { width: 5em; font: inherit; padding: 2px 4px; }
        .field input[type="checkbox"] { width: 18px; height: 18px; vertical-align: -3px; margin-right: 6px; }
        .field .explain { margin: 2px 0 0; font-size: 0.9rem; color: var(--muted); }
        button { font: inherit; background: var(--accent); color: #ffffff; border: none; border-radius: 6px;
          padding: 8px 16px; cursor: pointer; }
        button:disabled { background: #5f6b7a; cursor: not-allowed; }
        .summary { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
        .summary dt { color: var(--muted); }
        .summary dd { margin: 0; overflow-wrap: break-word; min-width: 0; }
        .foot { text-align: center; color: var(--muted); font-size: 0.9rem; padding: 8px 16px 24px; }
        @media (max-width: 520px) {
          .top { padding: 12px; }
          main { padding: 8px; }
          .status-line { font-size: 1.05rem; }
          .pair { grid-template-columns: 1fr; }
          .bars { gap: 4px; }
        }
        """#
}
