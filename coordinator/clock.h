#pragma once
// Time as the coordinator's managers see it, so liveness and elapsed-time
// logic is tested by advancing a FakeClock instead of sleeping.
// Both implementations are thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace dstrain::coordinator {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Wall-clock time in microseconds since the Unix epoch, for records that
  // outlive the process (state_store.h), where a steady time means nothing.
  virtual std::int64_t UnixMicros() const = 0;
};

class RealClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::int64_t UnixMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Starts at an arbitrary fixed point and moves only when told to.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  // Moves with Now, from 2023-11-14 22:13:20 UTC.
  std::int64_t UnixMicros() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return kStartUnixMicros +
           std::chrono::duration_cast<std::chrono::microseconds>(now_ - kStart)
               .count();
  }
  void Advance(Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  static constexpr TimePoint kStart = TimePoint(std::chrono::hours(1));
  static constexpr std::int64_t kStartUnixMicros = 1700000000000000;

  mutable std::mutex mu_;
  TimePoint now_ = kStart;  // guarded by mu_
};

}  // namespace dstrain::coordinator
