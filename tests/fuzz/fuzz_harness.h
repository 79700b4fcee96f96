#pragma once
// Runs one loader call of the fuzz test under watch: the outcome check's
// finding, or a call over the deadline, fails the current test with the
// input shown (escaped, cut short) and saved under <build>/fuzz-failures/.
// A call that does not return in 20 s (spinning or blocked) and a crash
// (a signal, stack overflow included) cannot fail a test: the input in
// progress is written to stderr's report and to
// <build>/fuzz-failures/crash.input before the process dies.
//
// The deadline is CPU time of the calling thread: the machine may be
// shared, and load stretches wall time, not work. The first use also caps
// the address space at 4 GiB, so runaway allocation turns into bad_alloc
// (which the checks report) rather than swapping.
//
// One harness per process (Get()); Run is called from one thread at a time.

#include <chrono>
#include <functional>
#include <string>

namespace dstrain::fuzz {

inline constexpr std::chrono::seconds kDeadline{2};

class Harness {
 public:
  static Harness& Get();

  // Runs `check` (which returns "" or a finding) on `input`; `label` names
  // the input in reports.
  void Run(const std::string& label, const std::string& input,
           const std::function<std::string()>& check);

 private:
  Harness();
  void Watch();
};

}  // namespace dstrain::fuzz
