#include "coordinator/hang_report.h"

#include <algorithm>
#include <cmath>

namespace dstrain::coordinator {
namespace {

constexpr int kNamedCulprits = 8;

const proto::CollectiveState* World(const RankView& r) {
  if (!r.has_progress || r.progress.comms_size() == 0) return nullptr;
  return &r.progress.comms(0);
}

bool Stuck(const std::string& process) {
  return process == "stopped" || process == "zombie" || process == "disk";
}

std::string Collective(const proto::CollectiveState& c, std::int64_t seq) {
  std::string out = c.op() + " #" + std::to_string(seq);
  if (!c.dtype().empty()) {
    out += " (" + std::to_string(c.numel()) + " x " + c.dtype() + ")";
  }
  return out;
}

std::string Ranks(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (i == 6 && ranks.size() > 8) {
      return out + " and " + std::to_string(ranks.size() - 6) + " more";
    }
    out += (i ? ", " : "") + std::to_string(ranks[i]);
  }
  return out;
}

std::string Seconds(double s) {
  return std::to_string(static_cast<long long>(std::llround(s))) + " s";
}

}  // namespace

proto::HangReport DescribeHang(const std::vector<RankView>& ranks,
                               double stalled_s) {
  proto::HangReport out;
  out.set_stalled_s(stalled_s);
  std::int64_t frontier = 0;
  const proto::CollectiveState* at = nullptr;  // a record of the frontier
  for (const RankView& r : ranks) {
    const proto::CollectiveState* w = World(r);
    if (w != nullptr && w->started_seq() > frontier) {
      frontier = w->started_seq();
      at = w;
    }
  }
  if (at != nullptr) {
    out.set_collective(at->comm() + " " + Collective(*at, frontier));
  }
  std::vector<const RankView*> culprits;
  std::vector<std::string> why;
  for (const RankView& r : ranks) {
    const proto::CollectiveState* w = World(r);
    const bool waiting = w != nullptr && w->started_seq() == frontier &&
                         w->completed_seq() < frontier;
    if (waiting) out.add_waiting(r.rank);
    std::string reason;
    if (Stuck(r.progress.process())) {
      reason = "stopped";
    } else if (w == nullptr || w->started_seq() == 0) {
      reason = "no-record";
    } else if (w->started_seq() < frontier) {
      reason = "never-arrived";
    }
    if (!reason.empty()) {
      culprits.push_back(&r);
      why.push_back(reason);
    }
  }
  // A rank whose process cannot run holds everyone up wherever the others
  // are: a rank stopped just after starting the next collective leaves
  // the others behind the frontier, in no fault of their own.
  std::vector<const RankView*> stopped;
  for (const RankView* r : culprits) {
    if (Stuck(r->progress.process())) stopped.push_back(r);
  }
  if (!stopped.empty() && stopped.size() < culprits.size()) {
    culprits = stopped;
    why.assign(stopped.size(), "stopped");
  }
  if (culprits.empty()) {
    for (const RankView& r : ranks) {
      const proto::CollectiveState* w = World(r);
      if (w != nullptr && w->started_seq() == frontier &&
          w->completed_seq() < frontier) {
        continue;
      }
      culprits.push_back(&r);
      why.push_back("never-arrived");
    }
  }
  for (std::size_t i = 0; i < culprits.size(); ++i) {
    const RankView& r = *culprits[i];
    proto::HangRank* h = out.add_culprits();
    h->set_rank(r.rank);
    h->set_host(r.host);
    h->set_why(why[i]);
    h->set_step(r.progress.step());
    h->set_phase(r.progress.phase());
    h->set_process(r.progress.process());
    if (const proto::CollectiveState* w = World(r)) {
      h->set_op(w->op());
      h->set_seq(w->started_seq());
      h->set_numel(w->numel());
      h->set_dtype(w->dtype());
      h->set_completed(w->completed_seq() >= w->started_seq());
    }
  }

  std::vector<std::string> parts;
  std::vector<int> waiting(out.waiting().begin(), out.waiting().end());
  if (!waiting.empty()) {
    parts.push_back(Ranks(waiting) +
                    (waiting.size() == 1 ? " waits" : " wait") + " in " +
                    out.collective());
  }
  const int named = std::min<int>(kNamedCulprits, out.culprits_size());
  for (int i = 0; i < named; ++i) {
    const proto::HangRank& h = out.culprits(i);
    std::string part = "rank " + std::to_string(h.rank()) +
                       (h.host().empty() ? "" : " on " + h.host());
    if (h.why() == "no-record") {
      part += " never reached a collective";
    } else if (h.why() == "stopped") {
      part += " is " + (h.process() == "disk"
                            ? std::string("in an uninterruptible wait")
                            : h.process());
    } else {
      part += " never arrived";
    }
    std::vector<std::string> last;
    if (h.seq() > 0) {
      last.push_back(h.op() + " #" + std::to_string(h.seq()) +
                     (h.completed() ? " done" : " waiting"));
    }
    if (h.step() > 0) last.push_back("step " + std::to_string(h.step()));
    if (!h.phase().empty() && h.phase() != "train") last.push_back(h.phase());
    if (!h.process().empty() && h.why() != "stopped") {
      last.push_back("process " + h.process());
    }
    if (!last.empty()) {
      part += " (last: ";
      for (std::size_t k = 0; k < last.size(); ++k) {
        part += (k ? ", " : "") + last[k];
      }
      part += ")";
    }
    parts.push_back(part);
  }
  if (out.culprits_size() > named) {
    parts.push_back("and " + std::to_string(out.culprits_size() - named) +
                    " more");
  }
  std::string summary = "no progress for " + Seconds(stalled_s);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    summary += (i ? "; " : ": ") + parts[i];
  }
  out.set_summary(summary);
  return out;
}

}  // namespace dstrain::coordinator
