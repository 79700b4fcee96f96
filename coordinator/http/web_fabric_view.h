#pragma once
// The web page's fabric view (web_page.h), as a script of its own: the
// job's nodes drawn where they sit on the fabric its topology plan used
// (GET /api/jobs/<id>/fabric, job_fabric.h), coloured by state and by step
// time, so that a slow or lost node is seen on its switch.
//
//   switched fabrics (fat-tree, rail-optimized, a description of no kind):
//     the switches above the job's leaves, level by level, the leaves, and
//     each node under the first leaf it links to, with the links between
//     them;
//   torus: a grid per plane of the job's bounding box (the first two
//     coordinates across, one panel per value of the others), cells outside
//     the job left empty;
//   no description: the nodes in rank order.
//
// Each node is an SVG group with data-node (hostname), data-state ("alive",
// "lost", "drained", "awaiting"), data-leaf, data-step-time (seconds, the
// slowest of its ranks' latest; empty before a step) and data-slowest;
// each switch one with data-switch and data-level — what the browser test
// reads. Colours: lost red, awaiting yellow, drained grey; live nodes from
// green (fastest) to orange (slowest step time); the node of the slowest
// rank outlined.
//
// Defines one function for the page's script:
//   drawFabric(container, fabric, stateOf(node_id) -> state,
//              stepTimeOfRank(rank) -> seconds or undefined, slowestRank)

namespace dstrain::coordinator::http {

// JavaScript, UTF-8; no external reference.
const char* FabricViewScript();

}  // namespace dstrain::coordinator::http
