#pragma once
// The engine tests' corpus: about 60 KB of word salad (ten words, drawn by
// an LCG from `seed`), learnable enough that a tiny GPT's loss falls within
// a few dozen steps. Written once per seed per process into a fresh /tmp
// folder; returns the file's path. Header-only, no torch.

#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

namespace dstrain::engine::testing {

inline std::string WordSaladCorpus(std::uint64_t seed) {
  static std::mutex mu;
  static std::map<std::uint64_t, std::string> written;
  std::lock_guard<std::mutex> lock(mu);
  auto it = written.find(seed);
  if (it != written.end()) return it->second;
  std::string dir = "/tmp/dstrain_word_salad_XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for the test corpus");
  }
  const std::string path = dir + "/corpus.txt";
  const char* words[] = {"the ",  "quick ", "brown ", "fox ", "jumps ",
                         "over ", "lazy ",  "dog ",   "and ", "runs\n"};
  std::ofstream out(path);
  std::uint64_t x = seed;
  for (int i = 0; i < 12000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out << words[(x >> 33) % 10];
  }
  written[seed] = path;
  return path;
}

}  // namespace dstrain::engine::testing
