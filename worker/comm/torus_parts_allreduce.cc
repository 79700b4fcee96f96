#include "worker/comm/torus_parts_allreduce.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "common/contract/torus_parts.h"
#include "worker/comm/plan_communicators.h"

namespace dstrain::comm {
namespace {

// One part's progress through its chain.
struct PartState {
  at::Tensor buf;  // what the next step works on
  // Per level reduce-scattered so far: the tensor to gather back into,
  // the length to keep, and where it goes.
  struct Level {
    Communicator* comm;
    at::Tensor padded;
    at::Tensor home;
  };
  std::vector<Level> stack;
  at::Tensor mine;  // a reduce-scatter's output, until it finishes
  std::unique_ptr<Work> work;
};

// The part's chain: its communicators, each visited twice (reduce-scatter
// going down, all-gather coming back).
std::vector<Communicator*> Chain(const TorusPartComms& p) {
  std::vector<Communicator*> down;
  if (p.local != nullptr) down.push_back(p.local);
  for (Communicator* c : p.levels) down.push_back(c);
  return down;
}

Status Start(PartState& s, Communicator& c, bool scatter, ReduceOp op) {
  if (scatter) {
    const int64_t n = s.buf.numel();
    const int64_t k = c.size();
    const int64_t chunk = (n + k - 1) / k;
    at::Tensor padded = s.buf;
    if (chunk * k != n) {
      padded = at::zeros({chunk * k}, s.buf.options());
      padded.narrow(0, 0, n).copy_(s.buf);
    }
    s.mine = at::empty({chunk}, s.buf.options());
    s.stack.push_back({&c, padded, s.buf});
    DSTRAIN_ASSIGN_OR_RETURN(s.work, c.ReduceScatter(padded, s.mine, op));
    return Status::Ok();
  }
  PartState::Level& l = s.stack.back();
  DSTRAIN_ASSIGN_OR_RETURN(s.work, c.AllGather(s.buf, l.padded));
  return Status::Ok();
}

void Finish(PartState& s, bool scatter) {
  s.work.reset();
  if (scatter) {
    s.buf = s.mine;
    return;
  }
  PartState::Level l = std::move(s.stack.back());
  s.stack.pop_back();
  if (l.padded.data_ptr() != l.home.data_ptr())
    l.home.copy_(l.padded.narrow(0, 0, l.home.numel()));
  s.buf = l.home;
}

}  // namespace

StatusOr<std::vector<TorusPartComms>> FindTorusParts(
    const PlanCommunicators& subs, int world_size) {
  // The box's extents: part 0 runs along every dimension in use.
  std::vector<int> extents(4, 1);
  int hosts = 1;
  for (int d = 0; d < 4; ++d) {
    if (Communicator* c = subs.Find(contract::TorusPartCommName(0, d))) {
      extents[static_cast<std::size_t>(d)] = c->size();
      hosts *= c->size();
    }
  }
  const std::vector<contract::TorusPart> parts = contract::TorusParts(extents);
  if (parts.empty()) {
    return InvalidArgument(
        "the torus all-reduce needs sub-communicators torus_p0_x, "
        "torus_p0_y, ..., which this rank's plan lacks");
  }
  const bool local = world_size > hosts;
  std::vector<TorusPartComms> out;
  auto need = [&](const std::string& name) -> StatusOr<Communicator*> {
    Communicator* c = subs.Find(name);
    if (c == nullptr) {
      return InvalidArgument("the torus all-reduce needs sub-communicator `" +
                             name + "`, which this rank's plan lacks");
    }
    return c;
  };
  for (int k = 0; k < static_cast<int>(parts.size()); ++k) {
    TorusPartComms p;
    if (local) {
      DSTRAIN_ASSIGN_OR_RETURN(p.local,
                               need(contract::TorusPartLocalCommName(k)));
    }
    for (int d : parts[static_cast<std::size_t>(k)].order) {
      DSTRAIN_ASSIGN_OR_RETURN(Communicator * c,
                               need(contract::TorusPartCommName(k, d)));
      p.levels.push_back(c);
    }
    out.push_back(std::move(p));
  }
  return out;
}

Status TorusPartsAllReduce(const std::vector<TorusPartComms>& parts,
                           at::Tensor& flat, ReduceOp op, int world_size) {
  const bool avg = op == ReduceOp::kAvg;
  if (avg && !at::isFloatingType(flat.scalar_type()))
    return InvalidArgument("torus all-reduce: kAvg needs a floating dtype");
  const ReduceOp level_op = avg ? ReduceOp::kSum : op;
  const int np = static_cast<int>(parts.size());
  std::vector<PartState> state(static_cast<std::size_t>(np));
  std::vector<std::vector<Communicator*>> chains;
  std::size_t longest = 0;
  for (int k = 0; k < np; ++k) {
    const auto [a, b] = contract::TorusPartRange(flat.numel(), np, k);
    state[static_cast<std::size_t>(k)].buf = flat.narrow(0, a, b - a);
    chains.push_back(Chain(parts[static_cast<std::size_t>(k)]));
    longest = std::max(longest, 2 * chains.back().size());
  }
  // Round t: part k takes step t - k of its chain (down the chain, then
  // back up).
  for (std::size_t t = 0; t + 1 < longest + static_cast<std::size_t>(np); ++t) {
    std::vector<std::pair<int, bool>> started;  // part, scatter?
    for (int k = 0; k < np && static_cast<std::size_t>(k) <= t; ++k) {
      const std::vector<Communicator*>& chain =
          chains[static_cast<std::size_t>(k)];
      const std::size_t step = t - static_cast<std::size_t>(k);
      if (step >= 2 * chain.size()) continue;
      const bool scatter = step < chain.size();
      Communicator* c =
          scatter ? chain[step] : chain[2 * chain.size() - 1 - step];
      DSTRAIN_RETURN_IF_ERROR(
          Start(state[static_cast<std::size_t>(k)], *c, scatter, level_op));
      started.emplace_back(k, scatter);
    }
    for (const auto& [k, scatter] : started) {
      PartState& s = state[static_cast<std::size_t>(k)];
      DSTRAIN_RETURN_IF_ERROR(s.work->Wait());
      Finish(s, scatter);
    }
  }
  if (avg) flat.div_(world_size);
  return Status::Ok();
}

}  // namespace dstrain::comm
