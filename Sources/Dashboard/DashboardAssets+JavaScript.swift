extension DashboardAssets {
    /// `GET /assets/dashboard.js`: plain JavaScript, no framework. Every text from the node is set with
    /// `textContent` (never `innerHTML`), so peer-derived strings cannot become markup.
    static let javaScript = #"""
        "use strict";
        (function () {
          const API = "/api/v1/";
          const SVG = "http://www.w3.org/2000/svg";
          const state = { token: null, pending: new Set(), timer: null, settings: null };

          function readToken() {
            const hash = new URLSearchParams(window.location.hash.slice(1));
            const fromHash = hash.get("token");
            if (fromHash) {
              try { window.sessionStorage.setItem("phantom-trail-token", fromHash); } catch (e) { /* private mode */ }
              window.history.replaceState(null, "", window.location.pathname + window.location.search);
              return fromHash;
            }
            try { return window.sessionStorage.getItem("phantom-trail-token"); } catch (e) { return null; }
          }

          function $(id) { return document.getElementById(id); }

          function el(tag, options, children) {
            const node = document.createElement(tag);
            const opts = options || {};
            if (opts.className) { node.className = opts.className; }
            if (opts.text !== undefined && opts.text !== null) { node.textContent = String(opts.text); }
            if (opts.attrs) {
              for (const [name, value] of Object.entries(opts.attrs)) { node.setAttribute(name, String(value)); }
            }
            for (const child of children || []) {
              if (child === null || child === undefined) { continue; }
              node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
            }
            return node;
          }

          function svg(tag, attrs) {
            const node = document.createElementNS(SVG, tag);
            for (const [name, value] of Object.entries(attrs || {})) { node.setAttribute(name, String(value)); }
            return node;
          }

          function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }
          function setText(id, text) { $(id).textContent = text === undefined || text === null ? "" : String(text); }
          function whole(x) { return Math.round(Number(x) || 0); }
          function range(e) { return whole(e.lower) + "–" + whole(e.upper); }
          function needs(d) {
            return d.needed === 1 ? "needs 1 more report" : "needs " + d.needed + " more reports";
          }
          function gathering(d) { return "gathering data (" + d.have + " of " + (d.have + d.needed) + " reports so far)"; }
          function setGrade(id, grade) { const n = $(id); n.textContent = grade || "—"; n.setAttribute("data-grade", grade || ""); }

          async function getJSON(path) {
            const response = await fetch(API + path, { headers: { "Accept": "application/json" }, cache: "no-store" });
            const body = await response.json();
            if (!response.ok) { throw new Error(body && body.error ? body.error.message : "HTTP " + response.status); }
            return body;
          }

          function notice(text) {
            const n = $("notice");
            n.textContent = text || "";
            n.hidden = !text;
          }

          function renderStatus(s) {
            setText("status-line", s.statusLine);
            const badge = $("network-badge");
            badge.textContent = s.network === "demo" ? "Demo network: " + s.networkLabel : "Network: " + s.networkLabel;
            badge.setAttribute("data-kind", s.network);
            const health = $("health");
            health.setAttribute("data-level", s.health.connectivity);
            setText("health-text", s.health.summary);
            setText("freshness", "Epoch " + s.epoch + " · " + whole(s.epochProgress * 100) + "% elapsed · " + figuresAge(s.lastUpdated));
          }

          function figuresAge(lastUpdated) {
            const updated = lastUpdated ? new Date(lastUpdated) : null;
            if (!updated || isNaN(updated)) { return "no figures yet"; }
            const time = updated.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            if (updated.toDateString() === new Date().toDateString()) { return "figures from " + time; }
            return "figures from " + updated.toLocaleDateString([], { month: "short", day: "numeric" }) + ", " + time;
          }

          function lostContact() {
            setText("live-state", "Reconnecting to the node…");
            $("health").setAttribute("data-level", "offline");
            setText("health-text", "No contact with the local node: the figures below may be out of date");
          }

          function emptyRow(body, columns, text) {
            body.appendChild(el("tr", { className: "empty" }, [el("td", { className: "muted", text: text, attrs: { colspan: columns } })]));
          }

          function renderComparison(c) {
            if (c.state !== "ready") {
              setText("rank", "No local report yet");
              setText("rank-interval", c.message);
              setGrade("your-grade", null);
              setText("your-score", "");
              setText("average", "");
              return;
            }
            if (c.betterThan.status === "shown") {
              setText("rank", "Better than " + whole(c.betterThan.value.value) + "% of peers");
              setText("rank-interval", "95% interval " + range(c.betterThan.value) + "% · "
                + c.betterThan.value.supportingReports + " score reports");
            } else {
              setText("rank", "Your rank: gathering data");
              setText("rank-interval", gathering(c.betterThan));
            }
            setGrade("your-grade", c.userGrade);
            setText("your-score", c.userScore + " points");
            setText("average", c.averageText);
          }

          function renderStats(s) {
            if (s.averageScore.status === "shown") {
              setGrade("average-grade", s.averageGrade);
              const e = s.averageScore.value;
              setText("average-score", whole(e.value) + " ±" + whole((e.upper - e.lower) / 2) + " points");
            } else {
              setGrade("average-grade", null);
              setText("average-score", gathering(s.averageScore));
            }
            const chart = clear($("grade-chart"));
            if (s.gradeDistribution.status !== "shown") {
              chart.setAttribute("aria-label", "Grade distribution: " + gathering(s.gradeDistribution));
              setText("distribution-note", "Grade distribution: " + gathering(s.gradeDistribution));
              return;
            }
            const shares = s.gradeDistribution.value;
            const top = Math.max(1, ...shares.map(g => g.share.value));
            const you = $("your-grade").getAttribute("data-grade");
            for (const g of shares) {
              const bar = el("div", { className: "bar" });
              bar.style.height = Math.max(1, (g.share.value / top) * 100) + "%";
              const column = el("div", { className: "bar-col", attrs: { "data-grade": g.grade, "data-you": g.grade === you } }, [
                el("span", { className: "bar-value", text: whole(g.share.value) + "%" }),
                bar,
                el("span", { className: "bar-label", text: g.grade })
              ]);
              chart.appendChild(column);
            }
            chart.setAttribute("aria-label", "Grade distribution: " + shares.map(g => g.grade + " " + whole(g.share.value) + "%").join(", "));
            setText("distribution-note", "Percent of this epoch's users per grade" + (you ? " (yours highlighted)" : "") + ".");
            const body = clear($("regions"));
            for (const r of s.regions) {
              const row = el("tr", { attrs: { "data-region": r.region } });
              row.appendChild(el("th", { text: r.name, attrs: { scope: "row" } }));
              if (r.stats.status === "shown") {
                row.appendChild(el("td", { text: r.stats.value.reports }));
                row.appendChild(el("td", { text: r.stats.value.typicalGrade }));
              } else {
                row.appendChild(el("td", { className: "pending", text: r.stats.have + " so far", attrs: { colspan: 1 } }));
                row.appendChild(el("td", { className: "pending", text: needs(r.stats) }));
              }
              body.appendChild(row);
            }
            if (!s.regions.length) { emptyRow(body, 3, "No regional reports yet: regions are shared only by users who opt in."); }
          }

          function meter(percent) {
            const fill = el("span");
            fill.style.width = Math.min(100, Math.max(0, percent)) + "%";
            return el("div", { className: "meter", attrs: { "aria-hidden": "true" } }, [fill]);
          }

          function renderInsights(d) {
            const lists = ["tools", "recommendations", "areas", "trends", "leaderboard-grades", "leaderboard-regions", "education"];
            if (d.state !== "ready") {
              const waiting = "Shown once the privacy tool has sent its local report.";
              for (const id of lists) {
                clear($(id)).appendChild(el(id === "education" ? "p" : "li", { className: "muted empty", text: waiting }));
              }
              clear($("tools"));
              setText("tools-summary", d.message);
              clear($("trend-chart"));
              return;
            }
            setText("tools-summary", d.popularToolsText);
            const pooled = d.subPopulationEpochs > 1 ? " over the last " + d.subPopulationEpochs + " epochs" : " this epoch";
            setText("regions-note", "Reports" + pooled + " (each user sends one such report per epoch at most).");
            const tools = clear($("tools"));
            for (const t of d.popularTools.slice(0, 5)) {
              if (!t.shareAmongAGrade) { continue; }
              tools.appendChild(el("li", { attrs: { "data-tool": t.tool } }, [
                el("span", { text: t.name + ": " + whole(t.shareAmongAGrade.value) + "% of A-grade peers" }),
                meter(t.shareAmongAGrade.value),
                el("span", { className: "evidence", text: "95% interval " + range(t.shareAmongAGrade) + "% · " + t.reports + " reports" + pooled })
              ]));
            }
            if (!tools.firstChild) { tools.appendChild(el("li", { className: "muted", text: "Gathering data: no tool has enough reports yet." })); }

            const recs = clear($("recommendations"));
            for (const r of d.recommendations) {
              recs.appendChild(el("li", { attrs: { "data-kind": r.kind } }, [
                el("strong", { text: r.message }),
                el("div", { className: "evidence", text: "Evidence: " + whole(r.evidence.value) + "% (95% interval "
                  + range(r.evidence) + "%, " + r.evidence.supportingReports + " reports) · Learn: " + r.topicTitle })
              ]));
            }
            if (!recs.firstChild) { recs.appendChild(el("li", { className: "muted", text: "No recommendation: the network's evidence does not point to a change for you." })); }

            const areas = clear($("areas"));
            for (const a of d.areas) {
              let text;
              if (a.standing === "gathering_data") { text = "gathering data"; }
              else if (a.standing === "ahead") { text = "you do better than most peers"; }
              else if (a.standing === "behind") { text = "most peers do better than you"; }
              else { text = "about the same as most peers"; }
              const detail = a.peersBetter ? whole(a.peersBetter.value) + "% of peers better (" + range(a.peersBetter) + "%), "
                + whole(a.peersWorse.value) + "% worse" : "";
              areas.appendChild(el("li", { attrs: { "data-area": a.area } }, [
                el("strong", { text: a.label + " (yours: " + a.userBucketLabel + "): " }), text,
                el("div", { className: "evidence", text: detail })
              ]));
            }

            renderTrends(d.trends);

            const grades = clear($("leaderboard-grades"));
            if (d.leaderboard.grades.status === "shown") {
              for (const g of d.leaderboard.grades.value) {
                grades.appendChild(el("li", { attrs: { "data-grade": g.grade } }, [
                  el("strong", { text: "Grade " + g.grade }),
                  ": " + whole(g.share.value) + "% (" + range(g.share) + "%), about " + g.estimatedUsers + " users ",
                  g.isYou ? el("span", { className: "you", text: "you" }) : null
                ]));
              }
            } else {
              grades.appendChild(el("li", { className: "pending", text: gathering(d.leaderboard.grades) }));
            }
            const regions = clear($("leaderboard-regions"));
            if (!d.leaderboard.regions.length) { regions.appendChild(el("li", { className: "muted", text: "No regional reports yet." })); }
            for (const r of d.leaderboard.regions) {
              const text = r.shareAOrB ? whole(r.shareAOrB.value) + "% A or B (" + range(r.shareAOrB) + "%)" : needs(r.stats);
              regions.appendChild(el("li", { className: r.shareAOrB ? "" : "pending", attrs: { "data-region": r.region } }, [
                el("strong", { text: r.name }), ": " + text + " ",
                r.isYou ? el("span", { className: "you", text: "your region" }) : null
              ]));
            }

            const education = clear($("education"));
            for (const lesson of d.education) {
              const related = lesson.relatedTools.map(t => t.name).join(", ");
              education.appendChild(el("details", { attrs: { "data-topic": lesson.topic, "data-weak": lesson.forWeakSpot } }, [
                el("summary", { text: lesson.title }),
                el("p", { text: lesson.body }),
                related ? el("p", { className: "evidence", text: "Tools: " + related }) : null
              ]));
            }
            if (!d.education.length) { education.appendChild(el("p", { className: "muted", text: "No lesson to show: no weak spot found." })); }
          }

          function renderTrends(t) {
            const list = clear($("trends"));
            for (const text of [t.overallText, t.weeklyText, t.ownText]) {
              if (text) { list.appendChild(el("li", { text: text })); }
            }
            const chart = clear($("trend-chart"));
            const points = t.history;
            if (points.length < 2) {
              chart.appendChild(el("p", { className: "muted", text: "The chart appears once two epochs have enough reports." }));
              return;
            }
            const width = 320, height = 140, left = 30, right = 8, top = 8, bottom = 22;
            const lows = points.map(p => p.averageScore.lower), highs = points.map(p => p.averageScore.upper);
            let min = Math.floor(Math.min(...lows) / 10) * 10, max = Math.ceil(Math.max(...highs) / 10) * 10;
            if (max - min < 10) { max = min + 10; }
            const x = i => left + (i * (width - left - right)) / (points.length - 1);
            const y = v => top + (1 - (v - min) / (max - min)) * (height - top - bottom);
            const root = svg("svg", { viewBox: "0 0 " + width + " " + height, "aria-hidden": "true", focusable: "false" });
            root.appendChild(svg("line", { x1: left, y1: y(min), x2: width - right, y2: y(min), class: "trend-axis" }));
            const band = points.map((p, i) => x(i) + "," + y(p.averageScore.upper))
              .concat(points.slice().reverse().map((p, j) => x(points.length - 1 - j) + "," + y(p.averageScore.lower)));
            root.appendChild(svg("polygon", { points: band.join(" "), class: "trend-band" }));
            root.appendChild(svg("polyline", { points: points.map((p, i) => x(i) + "," + y(p.averageScore.value)).join(" "), class: "trend-line" }));
            points.forEach((p, i) => {
              root.appendChild(svg("circle", { cx: x(i), cy: y(p.averageScore.value), r: 3, class: "trend-point" }));
            });
            const last = points.length - 1;
            for (const [i, anchor] of [[0, "start"], [last, "end"]]) {
              const label = svg("text", { x: x(i), y: height - 6, "text-anchor": anchor, class: "trend-label" });
              label.textContent = i === last ? "epoch " + points[i].epoch + " (now)" : "epoch " + points[i].epoch;
              root.appendChild(label);
            }
            for (const v of [min, max]) {
              const label = svg("text", { x: 2, y: y(v) + 4, class: "trend-label" });
              label.textContent = String(v);
              root.appendChild(label);
            }
            chart.appendChild(root);
            chart.setAttribute("aria-label", "Network average by epoch: " + points.map(p => "epoch " + p.epoch + " " + whole(p.averageScore.value)).join(", "));
          }

          function renderPeers(p) {
            setText("peers-summary", p.count === 1 ? "1 connected peer (no addresses are shown)" : p.count + " connected peers (no addresses are shown)");
            const body = clear($("peers"));
            for (const peer of p.peers) {
              body.appendChild(el("tr", {}, [
                el("td", { text: peer.shortId }),
                el("td", { text: peer.direction }),
                el("td", { text: peer.pingMilliseconds === null || peer.pingMilliseconds === undefined ? "measuring…" : whole(peer.pingMilliseconds) + " ms" })
              ]));
            }
            if (!p.peers.length) { emptyRow(body, 3, "No peer connected yet."); }
          }

          function renderSettings(s) {
            state.settings = s.settings;
            const fields = clear($("settings-fields"));
            for (const e of s.explanations) {
              const id = "setting-" + e.key;
              const input = el("input", { attrs: { id: id, name: e.key, "aria-describedby": id + "-explain", "data-testid": id } });
              if (e.kind === "boolean") {
                input.type = "checkbox";
                input.checked = Boolean(s.settings[e.key]);
              } else {
                input.type = "number";
                input.min = e.minimum; input.max = e.maximum; input.step = 1;
                input.value = s.settings[e.key];
              }
              input.disabled = !state.token;
              const label = el("label", { attrs: { for: id } }, e.kind === "boolean" ? [input, e.label] : [e.label + " "]);
              fields.appendChild(el("div", { className: "field" }, [
                label, e.kind === "boolean" ? null : input,
                el("p", { className: "explain", text: e.explanation, attrs: { id: id + "-explain" } })
              ]));
            }
            $("settings-save").disabled = !state.token;
            if (!state.token) { setText("settings-message", "Open the link the node printed (it carries the token) to change settings."); }
          }

          async function saveSettings(event) {
            event.preventDefault();
            if (!state.token) { return; }
            const body = {};
            for (const input of $("settings-fields").querySelectorAll("input")) {
              body[input.name] = input.type === "checkbox" ? input.checked : Number(input.value);
            }
            setText("settings-message", "Saving…");
            try {
              const response = await fetch(API + "settings", {
                method: "PUT", cache: "no-store",
                headers: { "Content-Type": "application/json", "Authorization": "Bearer " + state.token },
                body: JSON.stringify(body)
              });
              const answer = await response.json();
              if (!response.ok) { throw new Error(answer.error ? answer.error.message : "HTTP " + response.status); }
              renderSettings(answer);
              setText("settings-message", "Saved.");
            } catch (error) {
              setText("settings-message", "Not saved: " + error.message);
            }
          }

          function renderDisclosure(d) {
            setText("disclosure-explanation", d.explanation);
            const summary = clear($("disclosure-summary"));
            if (!d.summary) {
              summary.appendChild(el("dt", { text: "Summary" }));
              summary.appendChild(el("dd", { text: "none yet (no local report)" }));
            } else {
              const s = d.summary;
              const rows = [
                ["Score (rounded to 5)", s.privacy_score], ["Grade", s.grade], ["Trackers (capped at 50)", s.tracker_count],
                ["Risk events", "low " + s.risk_distribution.low + ", medium " + s.risk_distribution.medium + ", high "
                  + s.risk_distribution.high + ", critical " + s.risk_distribution.critical],
                ["Top site categories", s.website_categories.join(", ") || "none"],
                ["Time (hour)", s.timestamp], ["Region", s.region || "not shared"]
              ];
              for (const [name, value] of rows) {
                summary.appendChild(el("dt", { text: name }));
                summary.appendChild(el("dd", { text: value }));
              }
            }
            const body = clear($("disclosure-reports"));
            for (const r of d.wireReports) {
              body.appendChild(el("tr", { attrs: { "data-type": r.type } }, [
                el("td", { text: r.type }), el("td", { text: r.value }),
                el("td", { text: (r.sent ? "sent " : "scheduled ") + new Date(r.sendAt).toLocaleString() })
              ]));
            }
            if (!d.wireReports.length) { emptyRow(body, 3, "Nothing is sent this epoch (sharing is off or no report yet)."); }
          }

          const loaders = {
            status: () => getJSON("status").then(renderStatus),
            comparison: () => getJSON("comparison").then(renderComparison),
            stats: () => getJSON("stats").then(renderStats),
            insights: () => getJSON("insights").then(renderInsights),
            peers: () => getJSON("peers").then(renderPeers),
            settings: () => getJSON("settings").then(renderSettings),
            disclosure: () => getJSON("disclosure").then(renderDisclosure)
          };
          const topics = {
            status: ["status"], statistics: ["status", "comparison", "stats", "insights"], peers: ["peers", "status"],
            settings: ["settings", "status", "disclosure"], disclosure: ["disclosure", "comparison", "stats", "insights"]
          };
          const order = ["status", "comparison", "stats", "insights", "peers", "settings", "disclosure"];

          async function load(names) {
            for (const name of order) {
              if (!names.has(name)) { continue; }
              try { await loaders[name](); notice(""); } catch (error) { notice("Could not load " + name + ": " + error.message); }
            }
          }

          function schedule(topic) {
            for (const name of topics[topic] || order) { state.pending.add(name); }
            if (state.timer) { return; }
            state.timer = window.setTimeout(() => {
              const names = state.pending;
              state.pending = new Set();
              state.timer = null;
              load(names);
            }, 200);
          }

          function listen() {
            if (!window.EventSource) { setText("live-state", "Live updates unavailable in this browser"); return; }
            const events = new EventSource(API + "events");
            events.addEventListener("hello", () => { setText("live-state", "Live"); schedule("all"); });
            events.addEventListener("update", (event) => {
              let topic = "all";
              try { topic = JSON.parse(event.data).topic; } catch (e) { /* refresh everything */ }
              schedule(topic);
            });
            events.onerror = lostContact;
          }

          document.addEventListener("DOMContentLoaded", () => {
            state.token = readToken();
            $("settings-form").addEventListener("submit", saveSettings);
            load(new Set(order)).then(listen);
          });
        })();
        """#
}
