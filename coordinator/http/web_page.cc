#include "coordinator/http/web_page.h"

#include "coordinator/http/web_fabric_view.h"

namespace dstrain::coordinator::http {
namespace {

// Up to the page's own script; the fabric view's script goes between.
constexpr const char* kHead = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dstrain</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; }
th, td { padding: 0.2em 0.8em; text-align: left; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; }
tr.slowest td { background: #fde2e2; font-weight: bold; }
.state-RUNNING { color: #0a6; } .state-FAILED { color: #c22; }
.state-PENDING { color: #a60; } .state-SUCCEEDED { color: #06a; }
svg { background: #fafafa; border: 1px solid #ddd; }
#fabric-caption, #fabric-legend { color: #555; font-size: 0.9em; }
#error { color: #c22; }
</style>
</head>
<body>
<h1><a href="#jobs">dstrain</a> <span id="where"></span></h1>
<form id="login" hidden>
  <label>Token (operator or viewer): <input id="token" type="password" size="40"></label>
  <button type="submit">Show</button>
</form>
<p id="error"></p>
<div id="jobs-view" hidden>
  <table id="jobs-table"><thead><tr><th>job</th><th>name</th><th>state</th>
  <th>nodes</th><th>step</th><th>loss</th><th>tok/s</th><th>age</th>
  <th>reason</th></tr></thead><tbody></tbody></table>
</div>
<div id="job-view" hidden>
  <p id="job-summary"></p>
  <h2>Loss</h2><svg id="loss-chart" width="640" height="200"></svg>
  <h2>Tokens per second</h2><svg id="tokens-chart" width="640" height="200"></svg>
  <h2>Ranks</h2>
  <table id="rank-table"><thead><tr><th>rank</th><th>host</th><th>step</th>
  <th>step s</th><th>tok/s</th><th>loss</th><th>scale</th><th>peak mem</th>
  <th>comm</th><th>data</th></tr></thead><tbody></tbody></table>
  <h2>Fabric</h2><div id="fabric"></div>
  <h2>Events</h2><ul id="events"></ul>
</div>
<script>
"use strict";
)HTML";

constexpr const char* kScript = R"HTML(
let token = sessionStorage.getItem("dstrain-token") || "";
let steps = [];  // rank 0's steps of the job shown
let stepsJob = "";
let stepsAttempt = -1;  // the attempt the curves were read for
let fabric = null;  // the job's fabric (/api/jobs/<id>/fabric) ...
let fabricKey = "";  // ... for this job, attempt and placement
const $ = (id) => document.getElementById(id);

function takeTokenFromAddress() {
  const m = location.hash.match(/token=([^&]+)/);
  if (!m) return;
  token = decodeURIComponent(m[1]);
  sessionStorage.setItem("dstrain-token", token);
  window.history.replaceState(null, "", location.pathname + "#jobs");
}
async function api(path) {
  const r = await fetch(path, {headers: {"Authorization": "Bearer " + token}});
  if (r.status === 401 || r.status === 403) {
    $("login").hidden = false;
    throw new Error((await r.text()).trim());
  }
  if (!r.ok) throw new Error(path + ": " + r.status + " " + (await r.text()).trim());
  return r.json();
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function age(us) {
  const s = Math.max(0, Date.now() / 1000 - Number(us) / 1e6);
  if (s < 60) return Math.floor(s) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
}
function bytes(b) {
  b = Number(b || 0);
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; ++i; }
  return b.toFixed(i ? 2 : 0) + " " + u[i];
}
function share(part, whole) {
  return whole > 0 ? Math.round(100 * Math.min(1, part / whole)) + "%" : "0%";
}
function stateName(s) { return String(s || "").replace("JOB_", ""); }

function drawChart(svg, points) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("data-points", String(points.length));
  if (points.length === 0) return;
  const w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => 40 + (x1 > x0 ? (x - x0) / (x1 - x0) : 0) * (w - 50);
  const sy = (y) => h - 20 - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * (h - 30);
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#2463c9");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("points", points.map(p => sx(p[0]) + "," + sy(p[1])).join(" "));
  svg.appendChild(line);
  for (const [y, v] of [[sy(y1), y1], [sy(y0), y0]]) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", "2"); t.setAttribute("y", String(y + 4));
    t.setAttribute("font-size", "10");
    t.textContent = Number(v).toPrecision(4);
    svg.appendChild(t);
  }
}

async function showJobs() {
  $("where").textContent = "jobs";
  const data = await api("/api/jobs");
  const body = $("jobs-table").tBodies[0];
  body.textContent = "";
  for (const j of data.jobs || []) {
    const tr = document.createElement("tr");
    const id = cell(tr, "");
    const a = document.createElement("a");
    a.href = "#job=" + encodeURIComponent(j.job_id);
    a.textContent = j.job_id;
    id.appendChild(a);
    cell(tr, j.name);
    const st = stateName(j.state);
    cell(tr, st, "state-" + st);
    cell(tr, String(j.nodes || 0));
    cell(tr, (j.step || 0) + "/" + (j.total_steps || 0));
    cell(tr, j.step ? Number(j.loss).toFixed(4) : "-");
    cell(tr, j.step ? Math.round(j.tokens_per_s) : "-");
    cell(tr, age(j.submitted_unix_us));
    cell(tr, j.pending_reason || j.reason || "");
    body.appendChild(tr);
  }
  $("jobs-view").hidden = false;
  $("job-view").hidden = true;
}

async function showJob(id) {
  if (stepsJob !== id) { steps = []; stepsJob = id; stepsAttempt = -1; }
  const since = steps.length ? steps[steps.length - 1].step : 0;
  let [st, nodes] = await Promise.all([
    api("/api/jobs/" + encodeURIComponent(id) + "?since=" + since),
    api("/api/nodes")]);
  // A new attempt resumes from its checkpoint and redoes the steps after
  // it: the curves are read again from the start, as rank 0's history
  // holds them now.
  if ((st.attempt || 0) !== stepsAttempt) {
    if (since > 0) st = await api("/api/jobs/" + encodeURIComponent(id) + "?since=0");
    steps = [];
    stepsAttempt = st.attempt || 0;
  }
  for (const h of st.history || []) {
    if (steps.length && h.step <= steps[steps.length - 1].step) continue;
    steps.push(h);
  }
  $("where").textContent = "job " + id;
  const state = stateName(st.state);
  $("job-summary").textContent = st.name + " — " + state + ", attempt " +
      (st.attempt || 0) + ", " + (st.world_size || 0) + " ranks" +
      (st.reason ? " — " + st.reason : "") +
      (st.pending_reason ? " — " + st.pending_reason : "");
  drawChart($("loss-chart"), steps.map(h => [h.step, h.loss]));
  drawChart($("tokens-chart"), steps.map(h => [h.step, h.tokens_per_s || 0]));

  const latest = {};
  for (const m of st.latest || []) latest[m.rank || 0] = m;
  let slowest = -1;
  for (const r of Object.keys(latest)) {
    const m = latest[r], s = slowest < 0 ? null : latest[slowest];
    if (!s || (m.step || 0) < (s.step || 0) ||
        ((m.step || 0) === (s.step || 0) && (m.step_time_s || 0) > (s.step_time_s || 0))) {
      slowest = Number(r);
    }
  }
  const body = $("rank-table").tBodies[0];
  body.textContent = "";
  for (const a of st.ranks || []) {
    const rank = a.rank || 0, m = latest[rank];
    const tr = document.createElement("tr");
    tr.setAttribute("data-rank", String(rank));
    if (rank === slowest) tr.className = "slowest";
    cell(tr, String(rank));
    cell(tr, a.host || "");
    if (!m) {
      for (let i = 0; i < 8; ++i) cell(tr, "-");
    } else {
      cell(tr, String(m.step || 0));
      cell(tr, Number(m.step_time_s || 0).toFixed(3));
      cell(tr, String(Math.round(m.tokens_per_s || 0)));
      cell(tr, Number(m.loss || 0).toFixed(4));
      cell(tr, String(m.loss_scale || 1));
      cell(tr, bytes(m.peak_rss_bytes));
      cell(tr, share(m.comm_time_s || 0, m.step_time_s || 0));
      cell(tr, share(m.data_wait_s || 0, m.step_time_s || 0));
    }
    body.appendChild(tr);
  }

  // The job's nodes where they sit on the fabric: its shape changes only
  // with a new attempt or placement, their colours at every refresh.
  const key = id + "/" + (st.attempt || 0) + "/" +
      (st.ranks || []).map(a => a.node_id).join(",");
  if (key !== fabricKey) {
    fabric = await api("/api/jobs/" + encodeURIComponent(id) + "/fabric");
    fabricKey = key;
  }
  const nodeState = {};
  for (const n of nodes.nodes || []) nodeState[n.node_id] = n.state;
  drawFabric($("fabric"), fabric, (nodeId) => nodeState[nodeId],
             (rank) => latest[rank] ? Number(latest[rank].step_time_s || 0) : undefined,
             slowest);

  const events = $("events");
  events.textContent = "";
  for (const e of st.events || []) {
    const li = document.createElement("li");
    li.textContent = new Date(Number(e.time_unix_us) / 1000).toLocaleString() +
        "  " + stateName(e.to_state) + "  " + (e.cause || "");
    events.appendChild(li);
  }
  $("jobs-view").hidden = true;
  $("job-view").hidden = false;
}

async function refresh() {
  if (!token) { $("login").hidden = false; return; }
  try {
    const m = location.hash.match(/job=([^&]+)/);
    if (m) await showJob(decodeURIComponent(m[1])); else await showJobs();
    $("error").textContent = "";
    $("login").hidden = true;
  } catch (e) {
    $("error").textContent = String(e.message || e);
  }
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("dstrain-token", token);
  refresh();
});
window.addEventListener("hashchange", () => { takeTokenFromAddress(); refresh(); });
takeTokenFromAddress();
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)HTML";

}  // namespace

const std::string& WebPageHtml() {
  static const std::string* const page =
      new std::string(std::string(kHead) + FabricViewScript() + kScript);
  return *page;
}

}  // namespace dstrain::coordinator::http
