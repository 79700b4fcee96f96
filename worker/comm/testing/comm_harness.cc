#include "worker/comm/testing/comm_harness.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "worker/comm/checked_communicator.h"

namespace dstrain::comm::testing {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, HarnessFactory> factories;  // guarded by mu
  std::map<std::string, std::unique_ptr<CommHarness>>
      harnesses;  // guarded by mu
};

// Built on first use: harnesses register from static initialisers of other
// files, in no particular order.
Registry& TheRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

}  // namespace

void CommHarness::RunOnRanks(int world, const RankBody& body,
                             const HarnessOptions& options) {
  if (!options.check_shapes) {
    Run(world, body, options);
    return;
  }
  const c10::Device device(this->device());
  Run(
      world,
      [&](Communicator& comm, RankSide& side) {
        std::unique_ptr<Communicator> checked =
            WithShapeChecksBorrowed(&comm, device);
        body(*checked, side);
      },
      options);
}

void CommHarness::RunOnRanks(int world,
                             const std::function<void(Communicator&)>& body,
                             const HarnessOptions& options) {
  RunOnRanks(
      world, [&](Communicator& comm, RankSide&) { body(comm); }, options);
}

bool RegisterHarness(const std::string& name, HarnessFactory factory) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[name] = std::move(factory);
  return true;
}

std::vector<std::string> RegisteredHarnesses() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

CommHarness& GetHarness(const std::string& name) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::unique_ptr<CommHarness>& h = r.harnesses[name];
  if (h == nullptr) h = r.factories.at(name)();
  return *h;
}

}  // namespace dstrain::comm::testing
