#pragma once
// Time as the coordinator's managers see it, so liveness and elapsed-time
// logic is tested by advancing a FakeClock instead of sleeping.
// Both implementations are thread-safe.

#include <chrono>
#include <mutex>

namespace dstrain::coordinator {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// Starts at an arbitrary fixed point and moves only when told to.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_ = TimePoint(std::chrono::hours(1));  // guarded by mu_
};

}  // namespace dstrain::coordinator
