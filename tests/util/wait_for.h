#pragma once
// Waiting on conditions in tests: poll a predicate until it holds or a
// deadline passes. This is how tests synchronise with processes and threads
// they cannot get a callback from; never a bare sleep.

#include <chrono>
#include <functional>
#include <thread>

namespace dstrain::testing {

// True as soon as `pred()` holds; false if it still does not after
// `timeout`. Checks every `every`.
inline bool WaitFor(
    const std::function<bool()>& pred, std::chrono::milliseconds timeout,
    std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace dstrain::testing
