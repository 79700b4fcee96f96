#pragma once
// Live and peak bytes of CPU tensor memory, per rank and per category.
//
// InstallCountingCpuAllocator() replaces libtorch's CPU allocator (once per
// process) with one that puts a 64-byte header in front of every block
// (the size, the tracker and the category it was charged to) and otherwise
// allocates exactly as the default allocator does (c10::alloc_cpu, 64-byte
// alignment kept). A block is charged to the MemoryTracker made current on
// the allocating thread by ScopedMemoryTracker, under the category made
// current by ScopedMemoryCategory (kActivation when none), and uncharged
// from the same tracker and category when freed, on whatever thread.
// Blocks allocated on threads with no current tracker (Gloo's, the data
// prefetcher's) and blocks allocated before installation are not counted.
//
// The training engine charges its model state (flat parameter, gradient
// and optimizer buffers, gathered units) to kModelState, the scratch of
// collectives to kComm; everything else allocated on the rank's thread
// while a step runs (tensors autograd saves for backward, temporaries,
// gradients before they reach the flat buffers, logits) is kActivation:
// its peak over a step is the step's peak activation memory, what
// torch.cuda.max_memory_allocated() minus the model state reports in
// PyTorch.
//
// Trackers live for the whole process (blocks may outlive a training run);
// counters are atomics, safe from any thread.

#include <array>
#include <atomic>
#include <cstdint>

namespace dstrain::base {

enum class MemoryCategory : std::uint8_t {
  kActivation = 0,
  kModelState = 1,
  kComm = 2,
};
inline constexpr int kMemoryCategories = 3;

class MemoryTracker {
 public:
  // A new tracker with every count at zero; never destroyed.
  static MemoryTracker* Create();

  std::int64_t live(MemoryCategory c) const;
  std::int64_t peak(MemoryCategory c) const;
  // Starts a new peak window: peak := live.
  void ResetPeak(MemoryCategory c);

  // Called by the allocator.
  void Charge(MemoryCategory c, std::int64_t bytes);
  void Uncharge(MemoryCategory c, std::int64_t bytes);

 private:
  MemoryTracker() = default;
  std::array<std::atomic<std::int64_t>, kMemoryCategories> live_{};
  std::array<std::atomic<std::int64_t>, kMemoryCategories> peak_{};
};

// Idempotent and thread-safe.
void InstallCountingCpuAllocator();
// Whether the counting allocator is libtorch's current CPU allocator.
bool CountingCpuAllocatorInstalled();

// Makes `tracker` (may be null) current on this thread for the scope.
class ScopedMemoryTracker {
 public:
  explicit ScopedMemoryTracker(MemoryTracker* tracker);
  ~ScopedMemoryTracker();
  ScopedMemoryTracker(const ScopedMemoryTracker&) = delete;
  ScopedMemoryTracker& operator=(const ScopedMemoryTracker&) = delete;

 private:
  MemoryTracker* previous_;
};

// Makes `category` current on this thread for the scope.
class ScopedMemoryCategory {
 public:
  explicit ScopedMemoryCategory(MemoryCategory category);
  ~ScopedMemoryCategory();
  ScopedMemoryCategory(const ScopedMemoryCategory&) = delete;
  ScopedMemoryCategory& operator=(const ScopedMemoryCategory&) = delete;

 private:
  MemoryCategory previous_;
};

}  // namespace dstrain::base
