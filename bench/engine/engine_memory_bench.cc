// Model-state bytes per rank, ZeRO stages 0-3 at W = 1, 2, 4, in fp32 and
// with a bf16 compute dtype (fp32 master, fp32 gradient shard, two fp32
// AdamW moments), against the formulas (docs/performance.md, "Training
// engine").
//
//   engine_memory_bench [--layers 4] [--d-model 128] [--heads 4]
//       [--seq-len 64] [--micro-batch 8] [--worlds 1,2,4] [--json FILE]
//
// Each case builds the GPT and a ZeroEngine on W ranks that are threads of
// this process, each with its own Gloo communicator over an in-memory store,
// runs one training step (forward, backward, reduce, AdamW step), waits for
// every collective and then reads, on every rank:
//   - allocated: the bytes the counting CPU allocator
//     (worker/base/memory_tracker.h) holds charged to model state, i.e.
//     what the engine's buffers really occupy at rest;
//   - accounted: ZeroEngine::memory().now (what the metrics stream reports
//     as param_bytes + grad_bytes + optimizer_bytes);
//   - the peak model state during the step (gathered units, full gradients).
// It prints one markdown table per dtype; --json also writes every number.
// The largest value over the ranks is reported (ranks differ only by the
// padding of the last shard, which is zero-filled but still allocated).

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/sizing/model_state_formula.h"
#include "common/strings.h"
#include "common/units.h"
#include "worker/base/memory_tracker.h"
#include "worker/comm/gloo_communicator.h"
#include "worker/engine/gpt_model.h"
#include "worker/models/gpt.h"
#include "worker/zero/zero_engine.h"

namespace {

using dstrain::base::MemoryCategory;
using dstrain::base::MemoryTracker;

struct Case {
  int stage = 0;
  int world = 1;
  at::ScalarType dtype = at::kFloat;
};

struct Result {
  Case c;
  std::int64_t psi = 0;
  std::int64_t allocated = 0;  // counting allocator, model state, at rest
  std::int64_t accounted = 0;  // engine.memory().now.total()
  std::int64_t params = 0, grads = 0, optimizer = 0;  // accounted, split
  std::int64_t peak = 0;  // engine.memory().peak_model_state during the step
  double loss = 0;
};

// The ZeRO paper's model-state bytes per rank (Rajbhandari et al. 2020,
// Fig. 1): mixed precision keeps 2Ψ parameters + 2Ψ gradients in the
// compute dtype and K = 12 bytes per parameter of optimizer state (fp32
// master + two Adam moments); in fp32 the parameters are the master, so
// 4Ψ + 4Ψ + 8Ψ.
double PaperBytes(int stage, double psi, int w, bool mixed) {
  const double p = mixed ? 2 : 4, g = mixed ? 2 : 4, k = mixed ? 12 : 8;
  switch (stage) {
    case 0:
      return (p + g + k) * psi;
    case 1:
      return (p + g) * psi + k * psi / w;
    case 2:
      return p * psi + (g + k) * psi / w;
    default:
      return (p + g + k) * psi / w;
  }
}

std::string Mib(double bytes) {
  return dstrain::StrFormat("%.3f", bytes / dstrain::kMiB);
}

Result RunCase(const dstrain::models::GptOptions& model_options,
               int micro_batch, const Case& c) {
  auto store = std::make_shared<dstrain::rendezvous::InMemoryKvStore>();
  std::mutex mu;
  Result result;  // guarded by mu
  result.c = c;
  std::vector<std::string> errors;  // guarded by mu
  std::vector<std::thread> threads;
  for (int r = 0; r < c.world; ++r) {
    threads.emplace_back([&, r] {
      try {
        MemoryTracker* const tracker = MemoryTracker::Create();
        dstrain::base::ScopedMemoryTracker track(tracker);
        dstrain::comm::GlooOptions go;
        go.timeout = std::chrono::seconds(120);
        auto comm =
            dstrain::comm::CreateGlooCommunicator(store, r, c.world, go);
        if (!comm.ok()) throw std::runtime_error(comm.status().ToString());

        dstrain::models::Gpt model(model_options);
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1234);
        model->ResetParameters(gen);
        model->train();
        dstrain::zero::ZeroOptions zo;
        zo.stage = c.stage;
        zo.param_dtype = c.dtype;
        auto made = dstrain::zero::ZeroEngine::Create(
            model->Units(), model->UnitForwardOrder(), **comm, zo,
            dstrain::config::OptimizerConfig{});
        if (!made.ok()) throw std::runtime_error(made.status().ToString());
        dstrain::zero::ZeroEngine& engine = **made;

        at::Generator data = at::make_generator<at::CPUGeneratorImpl>(7 + r);
        const at::Tensor tokens = torch::randint(
            0, model_options.vocab, {micro_batch, model_options.seq_len + 1},
            data, torch::kInt64);
        engine.BeginStep();
        engine.BeginMicroBatch();
        const at::Tensor loss = dstrain::engine::ShardedGptLoss(
            *model, engine, tokens.narrow(1, 0, model_options.seq_len),
            tokens.narrow(1, 1, model_options.seq_len));
        loss.backward();
        const double local_loss = loss.item<double>();
        engine.FinishMicroBatch(/*last=*/true);
        const dstrain::zero::StepStats stats =
            engine.ReduceStats(local_loss, /*local_found_inf=*/false);
        engine.Step(1e-3);
        engine.Sync();
        // c10d's Gloo worker thread lets go of a finished collective (and
        // the tensors it references) only after Wait() has returned; it
        // runs collectives one after another (one thread per group), so
        // once one more has completed the earlier ones are gone. A barrier
        // would not do: it keeps references to the work before it.
        {
          at::Tensor one = at::ones({1});
          auto settle = dstrain::comm::Await(
              (*comm)->AllReduce(one, dstrain::comm::ReduceOp::kSum));
          if (!settle.ok()) throw std::runtime_error(settle.ToString());
        }

        const dstrain::zero::MemoryStats m = engine.memory();
        const std::int64_t allocated =
            tracker->live(MemoryCategory::kModelState);
        {
          std::lock_guard<std::mutex> lock(mu);
          result.psi = engine.param_count();
          result.allocated = std::max(result.allocated, allocated);
          result.accounted = std::max(result.accounted, m.now.total());
          result.params = std::max(result.params, m.now.params);
          result.grads = std::max(result.grads, m.now.grads);
          result.optimizer = std::max(result.optimizer, m.now.optimizer);
          result.peak = std::max(result.peak, m.peak_model_state);
          result.loss = stats.loss;
        }
        auto barrier = dstrain::comm::Await((*comm)->Barrier());
        if (!barrier.ok()) throw std::runtime_error(barrier.ToString());
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back("rank " + std::to_string(r) + ": " + e.what());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (!errors.empty()) {
    std::fprintf(stderr, "stage %d, W=%d failed: %s\n", c.stage, c.world,
                 errors.front().c_str());
    std::exit(1);
  }
  return result;
}

std::vector<int> ParseInts(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "engine_memory_bench: %s\nusage: engine_memory_bench "
               "[--layers N] [--d-model N] [--heads N] [--seq-len N] "
               "[--micro-batch N] [--worlds 1,2,4] [--json FILE]\n",
               why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  dstrain::models::GptOptions o;
  o.layers = 4;
  o.d_model = 128;
  o.heads = 4;
  o.seq_len = 64;
  int micro_batch = 8;
  std::vector<int> worlds = {1, 2, 4};
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage("flag " + flag + " needs a value");
    const std::string value = argv[++i];
    try {
      if (flag == "--layers") {
        o.layers = std::stoi(value);
      } else if (flag == "--d-model") {
        o.d_model = std::stoi(value);
      } else if (flag == "--heads") {
        o.heads = std::stoi(value);
      } else if (flag == "--seq-len") {
        o.seq_len = std::stoi(value);
      } else if (flag == "--micro-batch") {
        micro_batch = std::stoi(value);
      } else if (flag == "--worlds") {
        worlds = ParseInts(value);
      } else if (flag == "--json") {
        json_path = value;
      } else {
        Usage("unknown flag " + flag);
      }
    } catch (const std::logic_error&) {
      Usage("flag " + flag + ": `" + value + "` is not a number");
    }
  }
  o.d_ff = 4 * o.d_model;
  at::set_num_threads(1);
  dstrain::base::InstallCountingCpuAllocator();

  std::vector<Result> results;
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (int stage = 0; stage <= 3; ++stage) {
      for (int w : worlds) {
        results.push_back(RunCase(o, micro_batch, Case{stage, w, dtype}));
      }
    }
  }

  std::printf(
      "GPT: %d layers, d_model %d, heads %d, seq_len %d, d_ff %d, vocab %d; "
      "Ψ = %lld parameters\n\n",
      o.layers, o.d_model, o.heads, o.seq_len, o.d_ff, o.vocab,
      static_cast<long long>(results.front().psi));
  std::ostringstream json;
  json << "{\"psi\": " << results.front().psi << ", \"layers\": " << o.layers
       << ", \"d_model\": " << o.d_model << ", \"rows\": [";
  bool first = true;
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    const bool mixed = dtype != at::kFloat;
    std::printf(
        "**%s**\n\n| stage | W | allocated (MiB) | engine's metrics (MiB) | "
        "formula (engine.md) | allocated / formula | ZeRO paper | "
        "allocated / paper | peak during step (MiB) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        mixed ? "bf16 compute, fp32 master + gradient shard + AdamW" : "fp32");
    for (const Result& r : results) {
      if (r.c.dtype != dtype) continue;
      const dstrain::sizing::ModelStateBytes f =
          dstrain::sizing::ExpectedModelStateBytes(r.c.stage, r.psi, r.c.world,
                                                   mixed ? 2 : 4);
      const double paper = PaperBytes(r.c.stage, r.psi, r.c.world, mixed);
      std::printf(
          "| %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", r.c.stage,
          r.c.world, Mib(r.allocated).c_str(), Mib(r.accounted).c_str(),
          Mib(f.total()).c_str(),
          dstrain::StrFormat("%.3f", double(r.allocated) / f.total()).c_str(),
          Mib(paper).c_str(),
          dstrain::StrFormat("%.3f", double(r.allocated) / paper).c_str(),
          Mib(r.peak).c_str());
      json << (first ? "" : ",") << "\n {\"dtype\": \""
           << (mixed ? "bf16" : "fp32") << "\", \"stage\": " << r.c.stage
           << ", \"world\": " << r.c.world
           << ", \"allocated_bytes\": " << r.allocated
           << ", \"accounted_bytes\": " << r.accounted
           << ", \"param_bytes\": " << r.params
           << ", \"grad_bytes\": " << r.grads
           << ", \"optimizer_bytes\": " << r.optimizer
           << ", \"formula_bytes\": " << f.total()
           << ", \"paper_bytes\": " << static_cast<std::int64_t>(paper)
           << ", \"peak_model_state_bytes\": " << r.peak
           << ", \"loss\": " << r.loss << "}";
      first = false;
    }
    std::printf("\n");
  }
  json << "\n]}\n";
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << json.str();
    if (!out) {
      std::fprintf(stderr, "engine_memory_bench: cannot write --json %s\n",
                   json_path.c_str());
      return 1;
    }
  }
  return 0;
}
