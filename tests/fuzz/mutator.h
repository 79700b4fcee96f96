#pragma once
// Deterministic mutations of text inputs for the loaders' fuzz test: small
// edits (delete, insert, replace, duplicate bytes or lines) and hostile
// splices: deep nesting, alias chains and bombs, huge and non-finite
// numbers, wide ranges, binary bytes, very long lines, stray YAML tokens.
// The same seed gives the same sequence of inputs on every machine
// (std::mt19937 is specified exactly; no std::*_distribution is used).
// Not thread-safe; one per thread.

#include <cstdint>
#include <random>
#include <string>

namespace dstrain::fuzz {

class Mutator {
 public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  // One to three edits of `text`; the result stays under ~1 MiB.
  std::string Mutate(std::string text);

  // A number in [0, n), n > 0.
  std::size_t Below(std::size_t n) { return rng_() % n; }

 private:
  void SmallEdit(std::string* s);
  void LineEdit(std::string* s);
  void Splice(std::string* s);

  // A position in `s` where a value would start (after `: `, `- `, `=`, a
  // `[`, or anywhere), for splices that should land in a value.
  std::size_t ValuePosition(const std::string& s);

  std::mt19937 rng_;
};

}  // namespace dstrain::fuzz
