#include "coordinator/http/web_fabric_view.h"

namespace dstrain::coordinator::http {

const char* FabricViewScript() {
  return R"JS(
const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(parent, tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const k of Object.keys(attrs || {})) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// Fill of a node: its state first, then its step time between the live
// nodes' fastest (green) and slowest (orange).
function nodeFill(state, t, lo, hi) {
  if (state === "lost") return "#e05252";
  if (state === "awaiting") return "#f3d36b";
  if (state === "drained") return "#c8c8c8";
  if (t === undefined) return "#e3eee3";
  const f = hi > lo ? (t - lo) / (hi - lo) : 0;
  return "hsl(" + Math.round(130 - 100 * f) + ", 65%, 62%)";
}

function drawFabric(container, fabric, stateOf, stepTimeOfRank, slowestRank) {
  container.textContent = "";
  const nodes = fabric.nodes || [];
  if (nodes.length === 0) {
    container.textContent = "not placed yet";
    return;
  }
  // Per node: state, the slowest of its ranks' latest step times, and
  // whether it holds the job's slowest rank.
  const info = nodes.map(n => {
    const first = n.first_rank || 0, count = n.ranks || 0;
    let t;
    for (let r = first; r < first + count; ++r) {
      const s = stepTimeOfRank(r);
      if (s !== undefined && (t === undefined || s > t)) t = s;
    }
    const state = stateOf(n.node_id) || (n.lost ? "lost" : "alive");
    return {n, state, t, slowest: slowestRank >= first && slowestRank < first + count};
  });
  const live = info.filter(i => i.state === "alive" && i.t !== undefined).map(i => i.t);
  const lo = live.length ? Math.min(...live) : 0;
  const hi = live.length ? Math.max(...live) : 0;

  const kind = fabric.kind || "none";
  const caption = document.createElement("p");
  caption.id = "fabric-caption";
  caption.textContent = kind === "none"
      ? "No cluster description (topology.cluster in the job): nodes in rank order."
      : "Cluster " + (fabric.cluster || "") + " (" + kind + ")" +
        (fabric.placement ? ", placement " + fabric.placement : "") +
        (fabric.switches_omitted ? "; " + fabric.switches_omitted +
         " switches above the leaves not drawn" : "") + ".";
  container.appendChild(caption);

  const width = 1100;
  const svg = svgEl(container, "svg", {id: "fabric-svg", width: width});
  const drawNode = (i, x, y, w, h) => {
    const g = svgEl(svg, "g", {
      "data-node": i.n.hostname, "data-node-id": i.n.node_id,
      "data-state": i.state, "data-leaf": (i.n.leaves || [""])[0] || "",
      "data-step-time": i.t === undefined ? "" : i.t.toFixed(4),
      "data-slowest": i.slowest ? "1" : "0"});
    svgEl(g, "rect", {x, y, width: w, height: h, rx: 3,
      fill: nodeFill(i.state, i.t, lo, hi),
      stroke: i.slowest ? "#900" : "#666", "stroke-width": i.slowest ? 3 : 1});
    const ranks = (i.n.ranks || 0) > 1
        ? "ranks " + (i.n.first_rank || 0) + "-" + ((i.n.first_rank || 0) + i.n.ranks - 1)
        : "rank " + (i.n.first_rank || 0);
    svgEl(g, "title", {}, i.n.hostname + " — " + i.state + ", " + ranks +
        (i.t === undefined ? "" : ", step " + i.t.toFixed(3) + " s") +
        ((i.n.leaves || []).length ? ", on " + i.n.leaves.join(", ") : "") +
        ((i.n.torus_coords || []).length ? ", at (" + i.n.torus_coords.join(",") + ")" : ""));
    if (w >= 56) {
      svgEl(g, "text", {x: x + 4, y: y + 14, "font-size": 11}, i.n.hostname);
      svgEl(g, "text", {x: x + 4, y: y + 27, "font-size": 10},
            i.state !== "alive" ? i.state
                                : (i.t === undefined ? "-" : i.t.toFixed(3) + " s"));
    }
  };

  if (kind === "torus") {
    drawTorus(svg, fabric, info, drawNode, width);
  } else if ((fabric.switches || []).length === 0) {
    const w = Math.max(12, Math.min(96, Math.floor((width - 20) / info.length) - 6));
    const perRow = Math.max(1, Math.floor((width - 20) / (w + 6)));
    info.forEach((i, k) => drawNode(i, 10 + (k % perRow) * (w + 6),
                                    10 + Math.floor(k / perRow) * 42, w, 34));
    svg.setAttribute("height", 20 + Math.ceil(info.length / perRow) * 42);
  } else {
    drawSwitched(svg, fabric, info, drawNode, width);
  }

  const legend = document.createElement("p");
  legend.id = "fabric-legend";
  legend.textContent = "Colour: step time from green (" + lo.toFixed(3) +
      " s) to orange (" + hi.toFixed(3) + " s); red lost, yellow awaiting its " +
      "agent, grey drained; outlined: the node of the slowest rank.";
  container.appendChild(legend);
}

// Switches by level above the leaves, the nodes in groups under their
// first leaf, lines for the links.
function drawSwitched(svg, fabric, info, drawNode, width) {
  const switches = fabric.switches || [];
  const levels = Math.max(...switches.map(s => s.level || 0)) + 1;
  const groups = new Map();  // leaf name -> node infos
  for (const s of switches) if ((s.level || 0) === 0) groups.set(s.name, []);
  const loose = [];
  for (const i of info) {
    const leaf = (i.n.leaves || [])[0];
    if (leaf && groups.has(leaf)) groups.get(leaf).push(i); else loose.push(i);
  }
  if (loose.length) groups.set("", loose);
  const total = info.length + groups.size;  // a gap between groups
  const w = Math.max(10, Math.min(90, Math.floor((width - 20) / total) - 6));
  const rowH = 70, swH = 24;
  const hostY = 10 + levels * rowH;
  const pos = new Map();  // switch name -> [x centre, y]
  let x = 10;
  for (const [leaf, members] of groups) {
    const x0 = x;
    for (const i of members) {
      i.x = x + w / 2;
      x += w + 6;
    }
    const centre = (x0 + x - 6) / 2;
    if (leaf) pos.set(leaf, [centre, hostY - rowH + 10]);
    x += w + 6;
  }
  for (let level = 1; level < levels; ++level) {
    const row = switches.filter(s => (s.level || 0) === level);
    row.forEach((s, k) => pos.set(s.name, [
      10 + (k + 0.5) * (Math.max(x, 200) - 10) / row.length,
      hostY - (level + 1) * rowH + 10]));
  }
  const links = svgEl(svg, "g", {stroke: "#aaa", "stroke-width": 1});
  for (const s of switches) {
    const a = pos.get(s.name);
    for (const up of s.up || []) {
      const b = pos.get(up);
      if (a && b) svgEl(links, "line", {x1: a[0], y1: a[1], x2: b[0], y2: b[1] + swH});
    }
  }
  for (const i of info) {
    const leaf = pos.get((i.n.leaves || [])[0]);
    if (leaf) svgEl(links, "line", {x1: i.x, y1: hostY, x2: leaf[0], y2: leaf[1] + swH});
  }
  for (const s of switches) {
    const p = pos.get(s.name);
    if (!p) continue;
    const sw = Math.max(44, Math.min(110, s.name.length * 7 + 12));
    const g = svgEl(svg, "g", {"data-switch": s.name, "data-level": s.level || 0});
    svgEl(g, "rect", {x: p[0] - sw / 2, y: p[1], width: sw, height: swH, rx: 3,
                      fill: "#dde6f3", stroke: "#557"});
    svgEl(g, "text", {x: p[0], y: p[1] + 16, "font-size": 11, "text-anchor": "middle"},
          s.name);
  }
  for (const i of info) drawNode(i, i.x - w / 2, hostY, w, 34);
  svg.setAttribute("width", Math.max(x, 200));
  svg.setAttribute("height", hostY + 50);
}

// One grid per plane of the job's bounding box on the torus.
function drawTorus(svg, fabric, info, drawNode, width) {
  const dims = fabric.torus_dims || [];
  const lo = dims.map((_, d) => Math.min(...info.map(i => (i.n.torus_coords || [])[d] || 0)));
  const hi = dims.map((_, d) => Math.max(...info.map(i => (i.n.torus_coords || [])[d] || 0)));
  const span = (d) => d < dims.length ? hi[d] - lo[d] + 1 : 1;
  const planes = new Map();  // coordinates beyond the first two -> infos
  for (const i of info) {
    const c = i.n.torus_coords || [];
    const key = c.slice(2).join(",");
    if (!planes.has(key)) planes.set(key, []);
    planes.get(key).push(i);
  }
  const cols = span(0), rows = span(1);
  const cell = Math.max(12, Math.min(64, Math.floor((width - 20) /
      (Math.min(planes.size, 4) * (cols + 1))) - 4));
  const panelW = (cols + 1) * (cell + 4), panelH = (rows + 1) * (cell + 4) + 16;
  const perRow = Math.max(1, Math.floor((width - 20) / panelW));
  let k = 0;
  for (const [key, members] of [...planes.entries()].sort()) {
    const ox = 10 + (k % perRow) * panelW, oy = 10 + Math.floor(k / perRow) * panelH;
    svgEl(svg, "text", {x: ox, y: oy + 10, "font-size": 11},
          key ? "plane (" + key + ")" : "x across, y down");
    for (let cx = 0; cx < cols; ++cx) {
      for (let cy = 0; cy < rows; ++cy) {
        svgEl(svg, "rect", {x: ox + cx * (cell + 4), y: oy + 16 + cy * (cell + 4),
                            width: cell, height: cell, fill: "#f1f1f1", stroke: "#ddd"});
      }
    }
    for (const i of members) {
      const c = i.n.torus_coords || [];
      drawNode(i, ox + ((c[0] || 0) - lo[0]) * (cell + 4),
               oy + 16 + ((c[1] || 0) - (lo[1] || 0)) * (cell + 4), cell, cell);
    }
    ++k;
  }
  svg.setAttribute("width", Math.min(planes.size, perRow) * panelW + 20);
  svg.setAttribute("height", Math.ceil(planes.size / perRow) * panelH + 20);
}
)JS";
}

}  // namespace dstrain::coordinator::http
