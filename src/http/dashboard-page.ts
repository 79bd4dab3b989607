/**
 * The dashboard page served at `/_/dashboard`: one self-contained HTML document (inline CSS and
 * script; no external assets, fonts or CDN) that fetches `/_/dashboard/state` every second and
 * renders subnets and their nodes, keys with transcripts and pre-signature pools, canisters and
 * recent chain-key requests. Text goes in through `textContent` only (ids and key names are data).
 * After each successful refresh `<body data-refreshes>` counts up (tests wait for it).
 */

/** The page's HTML. */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chainkey-replica dashboard</title>
<style>
:root { --bg:#0f1419; --panel:#18202a; --line:#2a3542; --fg:#e6edf3; --dim:#8b98a5; --live:#3fb950; --crashed:#f85149; --slow:#d29922; --byzantine:#bc8cff; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:24px; align-items:baseline; padding:14px 20px; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; }
header span { color:var(--dim); }
#conn.ok { color:var(--live); } #conn.bad { color:var(--crashed); }
main { padding:16px 20px; display:grid; gap:16px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
h2 { font-size:15px; margin:0 0 10px; color:var(--accent); }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { color:var(--dim); font-weight:600; font-size:12px; text-transform:uppercase; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
td.num { text-align:right; font-variant-numeric: tabular-nums; }
.subnets { display:grid; grid-template-columns:repeat(auto-fill, minmax(320px, 1fr)); gap:12px; }
.subnet { border:1px solid var(--line); border-radius:6px; padding:10px; }
.subnet .name { font-weight:600; } .subnet .meta { color:var(--dim); font-size:12px; }
.nodes { display:flex; flex-wrap:wrap; gap:4px; margin-top:8px; }
.node { width:18px; height:18px; border-radius:4px; background:var(--live); }
.node.crashed { background:var(--crashed); } .node.slow { background:var(--slow); } .node.byzantine { background:var(--byzantine); }
.legend { display:flex; gap:14px; color:var(--dim); font-size:12px; margin-bottom:8px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
.stalled { color:var(--crashed); font-weight:600; margin-left:6px; }
.bar { width:140px; height:10px; background:var(--line); border-radius:5px; overflow:hidden; display:inline-block; vertical-align:middle; margin-right:6px; }
.bar > div { height:100%; background:var(--live); }
.rejected { color:var(--crashed); } .signed { color:var(--live); }
.empty { color:var(--dim); font-style:italic; }
</style>
</head>
<body data-refreshes="0">
<header>
  <h1>chainkey-replica</h1>
  <span id="version"></span>
  <span>height <b id="height">–</b></span>
  <span>time <b id="time">–</b></span>
  <span id="conn">connecting…</span>
</header>
<main>
  <section id="subnets-section"><h2>Subnets and nodes</h2>
    <div class="legend"><span><i style="background:var(--live)"></i>live</span><span><i style="background:var(--crashed)"></i>crashed</span><span><i style="background:var(--slow)"></i>slow</span><span><i style="background:var(--byzantine)"></i>byzantine</span></div>
    <div class="subnets" id="subnets"></div></section>
  <section><h2>Keys, transcripts and pre-signature pools</h2>
    <table><thead><tr><th>key</th><th>subnet</th><th>n</th><th>threshold</th><th>transcript</th><th>last reshare</th><th>pre-signatures</th></tr></thead><tbody id="keys"></tbody></table></section>
  <section><h2>Recent chain-key requests <span class="meta" id="inflight"></span></h2>
    <table><thead><tr><th>#</th><th>method</th><th>key</th><th>caller</th><th>fee (cycles)</th><th>outcome</th><th>answered</th></tr></thead><tbody id="requests"></tbody></table></section>
  <section><h2>Canisters</h2>
    <table><thead><tr><th>canister</th><th>subnet</th><th>status</th><th>code</th><th>balance (cycles)</th></tr></thead><tbody id="canisters"></tbody></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = String(text); return e; }
function row(cells) { const tr = document.createElement("tr"); for (const c of cells) tr.append(c instanceof Node ? c : el("td", "", c)); return tr; }
function td(cls, text) { return el("td", cls, text); }
function cycles(s) { return s === null ? "–" : s.replace(/\\B(?=(\\d{3})+(?!\\d))/g, "_"); }
function when(nanos) { return nanos === null ? "never" : new Date(Number(BigInt(nanos) / 1000000n)).toISOString().replace("T", " ").replace("Z", ""); }
function fill(body, rows, cols, empty) { body.replaceChildren(...rows); if (rows.length === 0) { const tr = row([]); const c = td("empty", empty); c.colSpan = cols; tr.append(c); body.append(tr); } }
function render(s) {
  $("version").textContent = s.implVersion;
  $("height").textContent = s.certifiedHeight;
  $("time").textContent = when(s.timeNanos);
  $("subnets").replaceChildren(...s.subnets.map((sn) => {
    const box = el("div", "subnet"); box.dataset.subnet = sn.name;
    const title = el("div"); title.append(el("span", "name", sn.name));
    if (sn.stalled) title.append(el("span", "stalled", "stalled"));
    box.append(title, el("div", "meta mono", sn.subnetId), el("div", "meta", sn.kind + " · size " + sn.size + " · " + (sn.nodes.length ? sn.nodes.length + " protocol nodes" : "no threshold keys")));
    const nodes = el("div", "nodes");
    for (const n of sn.nodes) { const d = el("div", "node " + n.state); d.title = n.id + ": " + n.state + (n.behaviours.length ? " (" + n.behaviours.join(", ") + ")" : ""); d.dataset.state = n.state; nodes.append(d); }
    box.append(nodes); return box;
  }));
  fill($("keys"), s.keys.map((k) => {
    const pool = td("");
    if (k.pool) { const bar = el("div", "bar"); const inner = el("div"); inner.style.width = Math.min(100, k.pool.target ? 100 * k.pool.ready / k.pool.target : 0) + "%"; bar.append(inner); pool.append(bar, document.createTextNode(k.pool.ready + " / " + k.pool.target + (k.pool.inCreation ? " (+" + k.pool.inCreation + " in creation)" : ""))); }
    else pool.append(el("span", "empty", "none (vetKD)"));
    const tr = row([td("mono", k.keyId), k.subnet, td("num", k.nodes), td("num", k.threshold), td("mono", k.transcriptId), when(k.lastReshareNanos), pool]);
    tr.dataset.key = k.keyId; return tr;
  }), 7, "no keys");
  $("inflight").textContent = "(" + s.requestsInFlight + " in flight)";
  fill($("requests"), s.requests.map((r) => row([td("num", r.id), td("mono", r.method), td("mono", r.keyId), td("mono", r.caller), td("num", cycles(r.feeCycles)), td(r.outcome, r.outcome === "rejected" ? "rejected: " + (r.reject || "") : "signed"), when(r.answeredNanos)])), 7, "no chain-key requests yet");
  fill($("canisters"), s.canisters.map((c) => row([td("mono", c.canisterId), c.subnet, c.status, c.hasCode ? "installed" : "empty", td("num", cycles(c.cycles))])), 5, "no canisters");
}
async function refresh() {
  try {
    const res = await fetch("/_/dashboard/state", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes) + 1);
    $("conn").textContent = "live · updated " + new Date().toLocaleTimeString(); $("conn").className = "ok";
  } catch (e) {
    $("conn").textContent = "disconnected (" + e.message + ")"; $("conn").className = "bad";
  } finally {
    setTimeout(refresh, 1000);
  }
}
refresh();
</script>
</body>
</html>
`;
