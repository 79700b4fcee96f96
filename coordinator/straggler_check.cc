#include "coordinator/straggler_check.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace dstrain::coordinator {
namespace {

constexpr double kNoiseFloorS = 0.001;

std::string Fixed(double v, const char* format) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// "0.120 s" or "0.120-0.131 s"; "2.3x" or "2.3-2.5x".
std::string Range(double lo, double hi, const char* format, const char* unit) {
  if (Fixed(lo, format) == Fixed(hi, format)) return Fixed(lo, format) + unit;
  return Fixed(lo, format) + "-" + Fixed(hi, format) + unit;
}

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Stragglers FindStragglers(const std::vector<RankWork>& ranks, double factor) {
  Stragglers out;
  if (ranks.size() < 2 || !(factor > 1)) return out;
  std::vector<double> work;
  for (const RankWork& r : ranks) work.push_back(r.work_s);
  const double median = Median(work);
  std::vector<const RankWork*> slow;
  for (const RankWork& r : ranks) {
    if (r.work_s > factor * median && r.work_s - median > kNoiseFloorS) {
      slow.push_back(&r);
      out.ranks.push_back(r.rank);
    }
  }
  if (slow.empty()) return out;
  std::sort(out.ranks.begin(), out.ranks.end());
  // Leaves whose slow ranks sit on two or more hosts.
  std::map<std::string, std::set<std::string>> hosts_by_leaf;
  for (const RankWork* r : slow) {
    if (!r->leaf.empty()) hosts_by_leaf[r->leaf].insert(r->host);
  }
  const std::string med = Fixed(median, "%.3f") + " s";
  std::vector<std::string> parts;
  std::set<std::string> leaves_named;
  for (const RankWork* r : slow) {
    const bool by_leaf = !r->leaf.empty() && hosts_by_leaf[r->leaf].size() >= 2;
    if (by_leaf) {
      if (!leaves_named.insert(r->leaf).second) continue;
      std::string who;
      double lo = r->work_s, hi = r->work_s;
      for (const RankWork* s : slow) {
        if (s->leaf != r->leaf) continue;
        who += (who.empty() ? "" : ", ") + std::to_string(s->rank) + " on " +
               s->host;
        lo = std::min(lo, s->work_s);
        hi = std::max(hi, s->work_s);
      }
      parts.push_back(
          "leaf " + r->leaf + " (ranks " + who +
          "): " + Range(lo, hi, "%.3f", " s") + " of work per step, " +
          Range(lo / median, hi / median, "%.1f", "x") + " the median " + med);
    } else {
      parts.push_back("rank " + std::to_string(r->rank) + " on " + r->host +
                      (r->leaf.empty() ? "" : " (" + r->leaf + ")") + ": " +
                      Fixed(r->work_s, "%.3f") + " s of work per step, " +
                      Fixed(r->work_s / median, "%.1f") + "x the median " +
                      med);
    }
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out.summary += (i ? "; " : "") + parts[i];
  }
  return out;
}

}  // namespace dstrain::coordinator
