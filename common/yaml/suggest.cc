#include "common/yaml/suggest.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace dstrain::yaml {

int EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows suffice: the swap rule looks two rows back.
  std::vector<int> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::string NormalizeSpelling(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '-' || c == ' ') {
      out.push_back('_');
    } else {
      out.push_back(
          static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

int MaxTypoDistance(std::string_view candidate) {
  if (candidate.size() <= 4) return 1;
  if (candidate.size() <= 8) return 2;
  return 3;
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<Candidate>& pool) {
  const std::string w = NormalizeSpelling(word);
  const Candidate* best = nullptr;
  int best_distance = 0;
  for (const Candidate& c : pool) {
    const std::string s = NormalizeSpelling(c.spelling);
    // The distance is at least the difference in length; skipping early
    // keeps a megabyte-long unknown key from costing seconds per candidate.
    const size_t gap =
        w.size() > s.size() ? w.size() - s.size() : s.size() - w.size();
    if (gap > static_cast<size_t>(MaxTypoDistance(s))) continue;
    const int d = EditDistance(w, s);
    // A distance as long as the candidate means nothing was shared.
    if (d > MaxTypoDistance(s) || d >= static_cast<int>(s.size())) continue;
    if (best == nullptr || d < best_distance ||
        (d == best_distance && c.tier < best->tier)) {
      best = &c;
      best_distance = d;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->suggestion;
}

}  // namespace dstrain::yaml
