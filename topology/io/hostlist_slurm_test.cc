// Host lists against Slurm's grammar: expressions generated from a small
// grammar are expanded by ExpandHostList and by an oracle that builds the
// names straight from the generated structure; mistakes Slurm refuses are
// refused; and, where Slurm is installed, every generated expression (and
// random junk) is compared with `scontrol show hostnames`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "topology/io/hostlist.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

// ---- a generated expression and its names ------------------------------

struct GenRange {
  uint64_t lo = 0, hi = 0;
  size_t width = 1;        // the lower bound is written this wide
  bool padded_hi = false;  // the upper bound written as wide (Slurm ignores)
};

struct GenPart {
  std::string literal;  // when ranges is empty
  std::vector<GenRange> ranges;
};

struct GenItem {
  std::vector<GenPart> parts;
};

struct GenList {
  std::vector<std::string> separators;  // before each item, then trailing
  std::vector<GenItem> items;
};

int Draw(std::mt19937_64& rng, int lo, int hi) {  // [lo, hi]
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

std::string Padded(uint64_t v, size_t width) {
  std::string d = std::to_string(v);
  if (d.size() < width) d.insert(0, width - d.size(), '0');
  return d;
}

std::string Literal(std::mt19937_64& rng) {
  static const std::string kChars = "abcnrx-_.0123456789";
  std::string s;
  const int n = Draw(rng, 1, 4);
  for (int i = 0; i < n; ++i) s += kChars[rng() % kChars.size()];
  return s;
}

GenRange RandomRange(std::mt19937_64& rng) {
  GenRange r;
  // Mostly small numbers; sometimes near the 18 digits dstrain reads.
  r.lo = Draw(rng, 0, 9) == 0 ? 999999999999999000ULL + rng() % 900
                              : static_cast<uint64_t>(Draw(rng, 0, 120));
  r.hi = Draw(rng, 0, 2) == 0 ? r.lo : r.lo + Draw(rng, 0, 4);
  const size_t digits = std::to_string(r.lo).size();
  r.width = digits + (Draw(rng, 0, 2) == 0 ? Draw(rng, 1, 2) : 0);
  if (r.width > 18) r.width = digits;
  r.padded_hi = Draw(rng, 0, 1) == 1;
  return r;
}

GenItem RandomItem(std::mt19937_64& rng) {
  GenItem item;
  const int brackets = Draw(rng, 0, 3);
  if (brackets == 0) {
    item.parts.push_back(GenPart{Literal(rng), {}});
    return item;
  }
  for (int b = 0; b < brackets; ++b) {
    // Text before a bracket is optional (`[1-2]`, `n[1][2]`); after the
    // last one there is none, as Slurm wants.
    if (Draw(rng, 0, 3) != 0) item.parts.push_back(GenPart{Literal(rng), {}});
    GenPart p;
    const int ranges = Draw(rng, 1, 3);
    for (int k = 0; k < ranges; ++k) p.ranges.push_back(RandomRange(rng));
    item.parts.push_back(std::move(p));
  }
  return item;
}

std::string Separators(std::mt19937_64& rng, bool may_be_empty) {
  static const char kSeps[] = {',', ',', ',', ' ', '\t'};
  std::string s;
  const int n = Draw(rng, may_be_empty ? 0 : 1, Draw(rng, 0, 3) == 0 ? 3 : 1);
  for (int i = 0; i < n; ++i) s += kSeps[rng() % sizeof kSeps];
  return s;
}

GenList RandomList(std::mt19937_64& rng) {
  GenList l;
  const int items = Draw(rng, 1, 4);
  for (int i = 0; i < items; ++i) {
    l.separators.push_back(Separators(rng, i == 0));
    l.items.push_back(RandomItem(rng));
  }
  l.separators.push_back(Separators(rng, true));
  return l;
}

std::string Render(const GenItem& item) {
  std::string s;
  for (const GenPart& p : item.parts) {
    if (p.ranges.empty()) {
      s += p.literal;
      continue;
    }
    s += '[';
    for (size_t k = 0; k < p.ranges.size(); ++k) {
      const GenRange& r = p.ranges[k];
      s += (k ? "," : "") + Padded(r.lo, r.width);
      if (r.hi != r.lo)
        s += "-" + (r.padded_hi ? Padded(r.hi, r.width) : std::to_string(r.hi));
    }
    s += ']';
  }
  return s;
}

std::string Render(const GenList& l) {
  std::string s;
  for (size_t i = 0; i < l.items.size(); ++i)
    s += l.separators[i] + Render(l.items[i]);
  return s + l.separators.back();
}

// The numbers a bracket stands for, each zero-padded to its lower bound's
// width, in order.
std::vector<std::string> Values(const GenPart& p) {
  std::vector<std::string> v;
  for (const GenRange& r : p.ranges)
    for (uint64_t x = r.lo; x <= r.hi; ++x) v.push_back(Padded(x, r.width));
  return v;
}

// The oracle: every combination of the item's brackets, in the order
// `scontrol show hostnames` prints them: the last bracket fastest, then
// the first, the second, ..., the second-to-last slowest.
std::vector<std::string> Oracle(const GenList& l) {
  std::vector<std::string> out;
  for (const GenItem& item : l.items) {
    std::vector<size_t> brackets;
    for (size_t i = 0; i < item.parts.size(); ++i)
      if (!item.parts[i].ranges.empty()) brackets.push_back(i);
    // Slowest first: second-to-last, ..., first, then last.
    std::vector<size_t> slowest_first;
    for (size_t j = brackets.size(); j-- > 1;)
      slowest_first.push_back(brackets[j - 1]);
    if (!brackets.empty()) slowest_first.push_back(brackets.back());
    // Names as choices per part, built up slowest bracket first.
    std::vector<std::vector<std::string>> choices = {
        std::vector<std::string>(item.parts.size())};
    for (size_t b : slowest_first) {
      std::vector<std::vector<std::string>> next;
      for (const auto& c : choices) {
        for (const std::string& v : Values(item.parts[b])) {
          next.push_back(c);
          next.back()[b] = v;
        }
      }
      choices = std::move(next);
    }
    for (const auto& c : choices) {
      std::string name;
      for (size_t i = 0; i < item.parts.size(); ++i)
        name += item.parts[i].ranges.empty() ? item.parts[i].literal : c[i];
      out.push_back(name);
    }
  }
  return out;
}

TEST(HostListGrammar, GeneratedExpressionsExpandAsTheOracleSays) {
  std::mt19937_64 rng(1717);
  for (int trial = 0; trial < 2000; ++trial) {
    const GenList l = RandomList(rng);
    const std::string e = Render(l);
    StatusOr<std::vector<std::string>> got = ExpandHostList(e);
    ASSERT_THAT(got, IsOk()) << e << ": " << got.status().message();
    const std::vector<std::string> want = Oracle(l);
    EXPECT_EQ(*got, want) << "`" << e << "`";
    uint64_t count = 0;
    ASSERT_THAT(CountHostList(e, &count), IsOk());
    EXPECT_EQ(count, want.size()) << e;
  }
}

// One mistake that Slurm refuses, put into an otherwise good list, and the
// words dstrain must refuse it with.
struct Mistake {
  std::string expr;
  std::string says;
};

Mistake RandomMistake(std::mt19937_64& rng) {
  for (;;) {
    GenList l = RandomList(rng);
    GenItem& item = l.items[rng() % l.items.size()];
    GenRange* range = nullptr;
    for (GenPart& p : item.parts)
      if (!p.ranges.empty()) range = &p.ranges[rng() % p.ranges.size()];
    switch (Draw(rng, 0, 3)) {
      case 0:  // text after the last bracket
        if (range == nullptr) continue;
        item.parts.push_back(GenPart{"-ib", {}});
        return {Render(l),
                "text `-ib` after the last `]`, which Slurm refuses"};
      case 1:  // a range that goes down
        if (range == nullptr || range->lo < 2) continue;
        range->hi = range->lo - 1 - rng() % (range->lo - 1);
        range->padded_hi = false;
        return {Render(l), "goes down"};
      case 2:  // one range of more than 65,536 names
        if (range == nullptr || range->lo > (uint64_t{1} << 40)) continue;
        range->hi = range->lo + kMaxHostRangeNames + rng() % 1000000;
        return {Render(l), "names; Slurm expands at most 65536 in one range"};
      default:  // an empty bracket
        return {Render(l) + ",z[]", "empty range"};
    }
  }
}

TEST(HostListGrammar, GeneratedMistakesAreRefusedAsSlurmRefusesThem) {
  std::mt19937_64 rng(2323);
  for (int trial = 0; trial < 1000; ++trial) {
    const Mistake m = RandomMistake(rng);
    std::vector<std::string> out;
    HostListError error;
    const Status s = ExpandHostList(m.expr, &out, &error);
    ASSERT_THAT(s, Not(IsOk())) << m.expr;
    EXPECT_NE(s.message().find(m.says), std::string::npos)
        << "`" << m.expr << "`: " << s.message();
    EXPECT_TRUE(out.empty()) << m.expr;
    EXPECT_LT(error.offset, m.expr.size()) << m.expr;
    uint64_t count = 0;
    EXPECT_THAT(CountHostList(m.expr, &count), Not(IsOk())) << m.expr;
  }
}

// ---- against Slurm's own scontrol ---------------------------------------

struct Scontrol {
  bool refused = false;  // "Invalid hostlist"
  std::vector<std::string> names;
  std::string err;
};

std::string ShellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `scontrol show hostnames -- EXPR` (the `--` keeps a list that
// starts with `-` from being read as options). Slurm 22.05 exits 0 even
// when it refuses a list, and says so on stderr.
Scontrol RunScontrol(const std::string& conf, const std::string& dir,
                     const std::string& expr) {
  const std::string err_path = dir + "/stderr";
  const std::string cmd = "SLURM_CONF=" + ShellQuoted(conf) +
                          " scontrol show hostnames -- " + ShellQuoted(expr) +
                          " 2>" + ShellQuoted(err_path);
  Scontrol r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.refused = true;
    r.err = "popen failed";
    return r;
  }
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    out.append(buf, n);
  ::pclose(p);
  r.err = Slurp(err_path);
  r.refused = r.err.find("Invalid hostlist") != std::string::npos;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) r.names.push_back(line);
  return r;
}

bool OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

// What dstrain refuses although Slurm makes names of it (hostlist.h lists
// them): the only way the two may disagree.
bool IsDocumentedRestriction(const std::string& message) {
  for (const char* m :
       {"`[` is never closed", "`]` without `[`", "expected a digit",
        "missing number", "number too long", "control character", "nested `[`"})
    if (message.find(m) != std::string::npos) return true;
  return false;
}

TEST(HostListGrammar, ExpansionMatchesScontrol) {
  if (!OnPath("scontrol"))
    GTEST_SKIP() << "scontrol is not installed (Debian: slurm-wlm); the "
                    "comparison with Slurm is skipped";
  // `show hostnames` reads no cluster state, but scontrol wants a
  // configuration before it does anything: a minimal one of our own.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("dstrain_hostlist_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string conf = (dir / "slurm.conf").string();
  std::ofstream(conf) << "ClusterName=dstrain\nSlurmctldHost=localhost\n";
  const Scontrol probe = RunScontrol(conf, dir.string(), "a[1-2]");
  if (probe.names != std::vector<std::string>{"a1", "a2"}) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "scontrol is installed but cannot expand `a[1-2]` here: "
                 << probe.err;
  }

  std::mt19937_64 rng(5150);
  std::vector<std::string> exprs = {
      "a[1-3]-ib",   "a[0-65535]b[0]",    "a[0-65536]",
      "a1 a2\tb,,c", "a[01-10],b[9-010]", "a[1-2]b[3-4]c[5-6]d[7-8]",
      "a\nb"};
  for (int i = 0; i < 60; ++i) exprs.push_back(Render(RandomList(rng)));
  for (int i = 0; i < 40; ++i) exprs.push_back(RandomMistake(rng).expr);
  // Junk from the grammar's own characters.
  static const std::string kJunk = "ab01-[], ";
  for (int i = 0; i < 150; ++i) {
    std::string s;
    const int n = Draw(rng, 1, 10);
    for (int k = 0; k < n; ++k) s += kJunk[rng() % kJunk.size()];
    exprs.push_back(s);
  }
  int agreed = 0;
  for (const std::string& e : exprs) {
    const Scontrol slurm = RunScontrol(conf, dir.string(), e);
    StatusOr<std::vector<std::string>> ours = ExpandHostList(e);
    if (ours.ok()) {
      EXPECT_FALSE(slurm.refused)
          << "`" << e << "`: dstrain accepts what Slurm refuses";
      EXPECT_EQ(*ours, slurm.names) << "`" << e << "`";
      ++agreed;
    } else if (slurm.refused) {
      ++agreed;
    } else {
      EXPECT_TRUE(IsDocumentedRestriction(ours.status().message()))
          << "`" << e << "`: Slurm expands it, dstrain refuses it with "
          << ours.status().message();
    }
  }
  EXPECT_GT(agreed, static_cast<int>(exprs.size()) / 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dstrain::topology
