#pragma once
// The coordinator's live web page, served from the binary (no CDN): one
// HTML document with its script and style inline. It asks the coordinator's
// JSON views (http_server.h: /api/jobs, /api/jobs/<id>, its /fabric,
// /api/nodes) with the token given in the address (`/#token=...`, kept in
// the tab's sessionStorage, never sent in a URL to the server) or typed
// into its form, and redraws every two seconds without reloading.
//
//   #jobs          every job: id, name, state, nodes, step/total, loss,
//                  tokens/s, age, why it waits
//   #job=<id>      one job: state, loss and tokens/s curves (SVG), a row
//                  per rank as `dstrain top` shows it (slowest marked),
//                  its nodes on its fabric (web_fabric_view.h), its events

#include <string>

namespace dstrain::coordinator::http {

// The whole page, UTF-8.
const std::string& WebPageHtml();

}  // namespace dstrain::coordinator::http
