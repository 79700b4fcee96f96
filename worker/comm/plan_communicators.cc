#include "worker/comm/plan_communicators.h"

#include <ATen/ATen.h>

#include <map>
#include <optional>

#include "common/log.h"
#include "worker/comm/torus_parts_allreduce.h"

namespace dstrain::comm {
namespace {

class DoneWork : public Work {
 public:
  Status Wait() override { return Status::Ok(); }
};

// The world communicator with another AllReduce: every other collective,
// and Split, goes to `world` unchanged.
class AllReduceOverlay : public Communicator {
 public:
  explicit AllReduceOverlay(Communicator& world) : world_(world) {}

  int rank() const override { return world_.rank(); }
  int size() const override { return world_.size(); }
  std::chrono::milliseconds timeout() const override {
    return world_.timeout();
  }
  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    return world_.AllGather(input, output);
  }
  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) override {
    return world_.ReduceScatter(input, output, op);
  }
  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    return world_.Broadcast(tensor, root);
  }
  StatusOr<std::unique_ptr<Work>> Barrier() override {
    return world_.Barrier();
  }
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    return world_.Split(color, key);
  }

 protected:
  Communicator& world_;
};

// AllReduce through the plan's levels.
class ComposedAllReduce : public AllReduceOverlay {
 public:
  ComposedAllReduce(Communicator& world, std::vector<Communicator*> scatter,
                    std::vector<Communicator*> reduce, std::string algorithm)
      : AllReduceOverlay(world),
        scatter_(std::move(scatter)),
        reduce_(std::move(reduce)),
        algorithm_(std::move(algorithm)) {}

  std::string backend() const override {
    return world_.backend() + "+" + algorithm_;
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    if (!tensor.is_contiguous())
      return InvalidArgument(algorithm_ +
                             " all-reduce: tensor is not contiguous");
    const bool avg = op == ReduceOp::kAvg;
    if (avg && !at::isFloatingType(tensor.scalar_type()))
      return InvalidArgument(algorithm_ +
                             " all-reduce: kAvg needs a floating dtype");
    const ReduceOp level_op = avg ? ReduceOp::kSum : op;
    at::Tensor flat = tensor.view({-1});
    DSTRAIN_RETURN_IF_ERROR(Reduce(flat, level_op, 0));
    if (avg) flat.div_(world_.size());
    return std::unique_ptr<Work>(std::make_unique<DoneWork>());
  }

 private:
  // Reduce-scatter through scatter_[level], recurse on this rank's slice,
  // all-gather back; past the scatter levels, all-reduce in every reduce
  // level. `flat` is 1-D and contiguous; the result lands in place.
  Status Reduce(at::Tensor& flat, ReduceOp op, std::size_t level) {
    if (level == scatter_.size()) {
      for (Communicator* c : reduce_) {
        if (c->size() == 1) continue;
        DSTRAIN_RETURN_IF_ERROR(comm::Await(c->AllReduce(flat, op)));
      }
      return Status::Ok();
    }
    Communicator& c = *scatter_[level];
    const int64_t k = c.size();
    if (k == 1) return Reduce(flat, op, level + 1);
    const int64_t n = flat.numel();
    const int64_t chunk = (n + k - 1) / k;
    at::Tensor padded = flat;
    if (chunk * k != n) {
      padded = at::zeros({chunk * k}, flat.options());
      padded.narrow(0, 0, n).copy_(flat);
    }
    at::Tensor mine = at::empty({chunk}, flat.options());
    DSTRAIN_RETURN_IF_ERROR(comm::Await(c.ReduceScatter(padded, mine, op)));
    DSTRAIN_RETURN_IF_ERROR(Reduce(mine, op, level + 1));
    at::Tensor gathered = padded.data_ptr() == flat.data_ptr() ? flat : padded;
    DSTRAIN_RETURN_IF_ERROR(comm::Await(c.AllGather(mine, gathered)));
    if (gathered.data_ptr() != flat.data_ptr())
      flat.copy_(gathered.narrow(0, 0, n));
    return Status::Ok();
  }

  const std::vector<Communicator*> scatter_;
  const std::vector<Communicator*> reduce_;
  const std::string algorithm_;
};

// AllReduce by the torus all-reduce's parts (torus_parts_allreduce.h).
class TorusAllReduce : public AllReduceOverlay {
 public:
  TorusAllReduce(Communicator& world, std::vector<TorusPartComms> parts)
      : AllReduceOverlay(world), parts_(std::move(parts)) {}

  std::string backend() const override { return world_.backend() + "+torus"; }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    if (!tensor.is_contiguous())
      return InvalidArgument("torus all-reduce: tensor is not contiguous");
    at::Tensor flat = tensor.view({-1});
    DSTRAIN_RETURN_IF_ERROR(
        TorusPartsAllReduce(parts_, flat, op, world_.size()));
    return std::unique_ptr<Work>(std::make_unique<DoneWork>());
  }

 private:
  const std::vector<TorusPartComms> parts_;
};

// Each AllReduce by its size in bytes, through the route the plan chose
// for that size (common/contract/grad_routes.h). Every rank sees the same sizes
// in the same order, so all take the same route for each call.
class RoutedAllReduce : public AllReduceOverlay {
 public:
  RoutedAllReduce(Communicator& world, std::vector<GradRoute> routes,
                  std::map<std::string, std::unique_ptr<Communicator>> composed)
      : AllReduceOverlay(world),
        routes_(std::move(routes)),
        composed_(std::move(composed)),
        name_(FormatGradRoutes(routes_)) {}

  std::string backend() const override {
    return world_.backend() + "+" + name_;
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    const int64_t bytes =
        tensor.defined() ? tensor.numel() * tensor.element_size() : 0;
    const std::string& via = RouteFor(routes_, bytes);
    if (via == "world") return world_.AllReduce(tensor, op);
    return composed_.at(via)->AllReduce(tensor, op);
  }

 private:
  const std::vector<GradRoute> routes_;
  const std::map<std::string, std::unique_ptr<Communicator>> composed_;
  const std::string name_;
};

// The all-reduce `algorithm` ("hierarchical" or "torus") composed of the
// plan's levels.
StatusOr<std::unique_ptr<Communicator>> ComposedFor(
    Communicator& world, const PlanCommunicators& subs,
    std::string_view algorithm) {
  std::vector<Communicator*> scatter;
  std::vector<Communicator*> reduce;
  auto need = [&](const char* name) -> StatusOr<Communicator*> {
    Communicator* c = subs.Find(name);
    if (c == nullptr) {
      return InvalidArgument("the " + std::string(algorithm) +
                             " all-reduce needs sub-communicator `" + name +
                             "`, which this rank's plan lacks");
    }
    return c;
  };
  if (algorithm == "hierarchical") {
    DSTRAIN_ASSIGN_OR_RETURN(Communicator * intra, need("intra_node"));
    DSTRAIN_ASSIGN_OR_RETURN(Communicator * inter, need("inter_node"));
    scatter = {intra};
    reduce = {inter};
  } else if (algorithm == "torus") {
    DSTRAIN_ASSIGN_OR_RETURN(std::vector<TorusPartComms> parts,
                             FindTorusParts(subs, world.size()));
    return std::unique_ptr<Communicator>(
        std::make_unique<TorusAllReduce>(world, std::move(parts)));
  } else {
    return InvalidArgument("unknown plan all-reduce `" +
                           std::string(algorithm) +
                           "` (expected hierarchical or torus)");
  }
  return std::unique_ptr<Communicator>(std::make_unique<ComposedAllReduce>(
      world, std::move(scatter), std::move(reduce), std::string(algorithm)));
}

}  // namespace

StatusOr<PlanCommunicators> PlanCommunicators::Build(
    Communicator& world, const std::vector<contract::SubCommunicator>& specs) {
  PlanCommunicators p;
  for (const contract::SubCommunicator& s : specs) {
    StatusOr<std::unique_ptr<Communicator>> sub = world.Split(s.color, s.key);
    if (!sub.ok()) {
      return Status(sub.status().code(), "sub-communicator `" + s.name +
                                             "`: " + sub.status().message());
    }
    p.subs_.emplace_back(s.name, std::move(sub).value());
  }
  return p;
}

Communicator* PlanCommunicators::Find(std::string_view name) const {
  for (const auto& [n, c] : subs_)
    if (n == name) return c.get();
  return nullptr;
}

StatusOr<std::vector<std::string>> PlanCommunicators::Describe(
    int world_rank) const {
  std::vector<std::string> lines;
  for (const auto& [name, c] : subs_) {
    if (c == nullptr) {
      lines.push_back("sub-communicator " + name + ": not a member");
      continue;
    }
    at::Tensor mine = at::full({1}, world_rank, at::kInt);
    at::Tensor all = at::empty({c->size()}, at::kInt);
    DSTRAIN_RETURN_IF_ERROR(comm::Await(c->AllGather(mine, all)));
    std::string ranks;
    const int32_t* d = all.data_ptr<int32_t>();
    for (int i = 0; i < c->size(); ++i)
      ranks += (i ? ", " : "") + std::to_string(d[i]);
    lines.push_back("sub-communicator " + name + ": group of " +
                    std::to_string(c->size()) + ", world ranks [" + ranks +
                    "]");
  }
  return lines;
}

StatusOr<std::unique_ptr<Communicator>> PlanAllReduce(
    Communicator& world, const PlanCommunicators& subs,
    const std::vector<GradRoute>& routes) {
  std::map<std::string, std::unique_ptr<Communicator>> composed;
  for (const GradRoute& r : routes) {
    if (r.via == "world" || composed.count(r.via) != 0) continue;
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<Communicator> c,
                             ComposedFor(world, subs, r.via));
    composed[r.via] = std::move(c);
  }
  if (composed.empty()) return std::unique_ptr<Communicator>();
  if (routes.size() == 1) return std::move(composed.begin()->second);
  return std::unique_ptr<Communicator>(
      std::make_unique<RoutedAllReduce>(world, routes, std::move(composed)));
}

StatusOr<RankPlanComms> SetUpPlanCommunicators(
    Communicator& world, const std::vector<contract::SubCommunicator>& specs,
    const std::vector<GradRoute>& routes) {
  RankPlanComms out;
  if (specs.empty() && routes.empty()) return out;
  DSTRAIN_ASSIGN_OR_RETURN(out.subs, PlanCommunicators::Build(world, specs));
  DSTRAIN_ASSIGN_OR_RETURN(const std::vector<std::string> lines,
                           out.subs.Describe(world.rank()));
  for (const std::string& line : lines) log::Print("plan: " + line);
  if (!routes.empty()) {
    DSTRAIN_ASSIGN_OR_RETURN(out.composed,
                             PlanAllReduce(world, out.subs, routes));
    if (world.rank() == 0 && out.composed != nullptr) {
      if (routes.size() == 1) {
        log::Print("plan: gradients all-reduced " + routes[0].via +
                   " through the sub-communicators");
      } else {
        log::Print("plan: gradients all-reduced by size: " +
                   DescribeGradRoutes(routes) + " (world: " + world.backend() +
                   "'s own all-reduce)");
      }
    }
  }
  return out;
}

}  // namespace dstrain::comm
