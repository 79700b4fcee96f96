#include "worker/base/memory_tracker.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <thread>

namespace dstrain::base {
namespace {

constexpr auto kAct = MemoryCategory::kActivation;
constexpr auto kModel = MemoryCategory::kModelState;

TEST(MemoryTrackerTest, CountsThisThreadsTensorsByCategory) {
  InstallCountingCpuAllocator();
  ASSERT_TRUE(CountingCpuAllocatorInstalled());
  MemoryTracker* t = MemoryTracker::Create();
  ScopedMemoryTracker scope(t);
  {
    at::Tensor a = torch::empty({1000}, torch::kFloat32);
    EXPECT_EQ(t->live(kAct), 4000);
    at::Tensor b;
    {
      ScopedMemoryCategory model(kModel);
      b = torch::zeros({250}, torch::kFloat64);
    }
    EXPECT_EQ(t->live(kModel), 2000);
    EXPECT_EQ(t->live(kAct), 4000);
    // Blocks keep the default allocator's 64-byte alignment.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data_ptr()) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data_ptr()) % 64, 0u);
  }
  EXPECT_EQ(t->live(kAct), 0);
  EXPECT_EQ(t->live(kModel), 0);
  EXPECT_EQ(t->peak(kAct), 4000);
  t->ResetPeak(kAct);
  EXPECT_EQ(t->peak(kAct), 0);
}

TEST(MemoryTrackerTest, PeakSeesTheLargestMomentNotTheSum) {
  InstallCountingCpuAllocator();
  MemoryTracker* t = MemoryTracker::Create();
  ScopedMemoryTracker scope(t);
  for (int i = 0; i < 3; ++i) {
    at::Tensor x = torch::ones({512}, torch::kFloat32);  // 2 KiB each
    at::Tensor y = x.clone();                            // +2 KiB
  }
  EXPECT_EQ(t->live(kAct), 0);
  EXPECT_EQ(t->peak(kAct), 4096);
}

TEST(MemoryTrackerTest, OtherThreadsAreNotChargedButFreesAre) {
  InstallCountingCpuAllocator();
  MemoryTracker* t = MemoryTracker::Create();
  at::Tensor mine;
  {
    ScopedMemoryTracker scope(t);
    mine = torch::empty({100}, torch::kFloat32);
    // Allocated on a thread with no tracker: not counted.
    std::thread([] { at::Tensor other = torch::empty({100}); }).join();
    EXPECT_EQ(t->live(kAct), 400);
  }
  // Freed on another thread: still uncharged from this tracker.
  std::thread([&] { mine.reset(); }).join();
  EXPECT_EQ(t->live(kAct), 0);
}

TEST(MemoryTrackerTest, ZeroByteAndRawAllocationsWork) {
  InstallCountingCpuAllocator();
  MemoryTracker* t = MemoryTracker::Create();
  ScopedMemoryTracker scope(t);
  at::Tensor empty = torch::empty({0});
  EXPECT_EQ(t->live(kAct), 0);
  c10::Allocator* a = c10::GetCPUAllocator();
  void* p = a->raw_allocate(100);
  EXPECT_EQ(t->live(kAct), 100);
  a->raw_deallocate(p);
  EXPECT_EQ(t->live(kAct), 0);
}

}  // namespace
}  // namespace dstrain::base
