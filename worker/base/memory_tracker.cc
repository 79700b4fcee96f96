#include "worker/base/memory_tracker.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstring>
#include <mutex>

namespace dstrain::base {
namespace {

thread_local MemoryTracker* t_tracker = nullptr;
thread_local MemoryCategory t_category = MemoryCategory::kActivation;

// Sits in the first 64 bytes of every block, so the pointer handed out
// keeps the default allocator's 64-byte alignment and the DataPtr stays
// "simple" (data == context), which parts of libtorch rely on.
struct alignas(64) Header {
  std::size_t bytes;
  MemoryTracker* tracker;
  MemoryCategory category;
};
static_assert(sizeof(Header) == 64);

void Delete(void* data) {
  if (data == nullptr) return;
  Header* h =
      reinterpret_cast<Header*>(static_cast<char*>(data) - sizeof(Header));
  if (h->tracker != nullptr) {
    h->tracker->Uncharge(h->category, static_cast<std::int64_t>(h->bytes));
  }
  c10::free_cpu(h);
}

class CountingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t n) override {
    if (n == 0) return {nullptr, nullptr, &Delete, c10::Device(c10::kCPU)};
    void* base = c10::alloc_cpu(n + sizeof(Header));
    Header* h = new (base) Header{n, t_tracker, t_category};
    if (h->tracker != nullptr) {
      h->tracker->Charge(h->category, static_cast<std::int64_t>(n));
    }
    void* data = static_cast<char*>(base) + sizeof(Header);
    return {data, data, &Delete, c10::Device(c10::kCPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }
  void copy_data(void* dest, const void* src,
                 std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
};

CountingCpuAllocator* TheAllocator() {
  static CountingCpuAllocator* a = new CountingCpuAllocator();
  return a;
}

}  // namespace

MemoryTracker* MemoryTracker::Create() { return new MemoryTracker(); }

std::int64_t MemoryTracker::live(MemoryCategory c) const {
  return live_[static_cast<int>(c)].load(std::memory_order_relaxed);
}

std::int64_t MemoryTracker::peak(MemoryCategory c) const {
  return peak_[static_cast<int>(c)].load(std::memory_order_relaxed);
}

void MemoryTracker::ResetPeak(MemoryCategory c) {
  peak_[static_cast<int>(c)].store(live(c), std::memory_order_relaxed);
}

void MemoryTracker::Charge(MemoryCategory c, std::int64_t bytes) {
  const int i = static_cast<int>(c);
  const std::int64_t now =
      live_[i].fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::int64_t peak = peak_[i].load(std::memory_order_relaxed);
  while (now > peak && !peak_[i].compare_exchange_weak(
                           peak, now, std::memory_order_relaxed)) {
  }
}

void MemoryTracker::Uncharge(MemoryCategory c, std::int64_t bytes) {
  live_[static_cast<int>(c)].fetch_sub(bytes, std::memory_order_relaxed);
}

void InstallCountingCpuAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Priority above the default registration, so later default-priority
    // registrations do not undo it.
    c10::SetCPUAllocator(TheAllocator(), /*priority=*/10);
  });
}

bool CountingCpuAllocatorInstalled() {
  return c10::GetCPUAllocator() == TheAllocator();
}

ScopedMemoryTracker::ScopedMemoryTracker(MemoryTracker* tracker)
    : previous_(t_tracker) {
  t_tracker = tracker;
}

ScopedMemoryTracker::~ScopedMemoryTracker() { t_tracker = previous_; }

ScopedMemoryCategory::ScopedMemoryCategory(MemoryCategory category)
    : previous_(t_category) {
  t_category = category;
}

ScopedMemoryCategory::~ScopedMemoryCategory() { t_category = previous_; }

}  // namespace dstrain::base
