#include "topology/io/hostlist.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "common/testing/status_matchers.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

std::vector<std::string> X(std::string_view e) {
  StatusOr<std::vector<std::string>> r = ExpandHostList(e);
  EXPECT_THAT(r, IsOk()) << r.status().message();
  return r.ok() ? *r : std::vector<std::string>{};
}

using V = std::vector<std::string>;

TEST(HostList, Expands) {
  EXPECT_EQ(X("c[0-5,7]"), (V{"c0", "c1", "c2", "c3", "c4", "c5", "c7"}));
  EXPECT_EQ(X("node1"), (V{"node1"}));
  EXPECT_EQ(X("a,b,c"), (V{"a", "b", "c"}));
  EXPECT_EQ(X("a[1-2]b[3-4]"), (V{"a1b3", "a1b4", "a2b3", "a2b4"}));
  EXPECT_EQ(X("c[8-10]"), (V{"c8", "c9", "c10"}));
  EXPECT_EQ(X("[1-2]x"), (V{"1x", "2x"}));
  EXPECT_EQ(X("rack[1-2]-n[01-02]"),
            (V{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"}));
  const V gpu = X("gpu-[001-128]");
  ASSERT_EQ(gpu.size(), 128u);
  EXPECT_EQ(gpu.front(), "gpu-001");
  EXPECT_EQ(gpu[9], "gpu-010");
  EXPECT_EQ(gpu.back(), "gpu-128");
  const V mixed = X("c[0-5,7],gpu-[001-128]");
  EXPECT_EQ(mixed.size(), 7u + 128u);
  EXPECT_EQ(mixed[6], "c7");
  EXPECT_EQ(mixed[7], "gpu-001");
}

struct Bad {
  const char* expr;
  const char* message;
  size_t offset;
};

TEST(HostList, ErrorsNameTheColumn) {
  const Bad cases[] = {
      {"c[5-3]", "range `5-3` goes down at column 3", 2},
      {"c[1-", "`[` is never closed at column 2", 1},
      {"c[a-b]", "expected a digit, got `a` at column 3", 2},
      {"c[1-x]", "expected a digit, got `x` at column 5", 4},
      {"c[]", "empty range at column 3", 2},
      {"c[1,,2]", "empty range at column 5", 4},
      {"c[1-]", "missing number at column 5", 4},
      {"a,,b", "empty host name at column 3", 2},
      {"", "empty host name at column 1", 0},
      {"c1]", "`]` without `[` at column 3", 2},
      {"c[1[2]]", "nested `[` at column 4", 3},
      {"x[0-99999999]", "more than", 1},
      {"c[1234567890123456789]", "number too long at column 3", 2},
  };
  for (const Bad& b : cases) {
    std::vector<std::string> out;
    HostListError e{999, ""};
    Status s = ExpandHostList(b.expr, &out, &e);
    ASSERT_THAT(s, Not(IsOk())) << b.expr;
    EXPECT_NE(s.message().find(b.message), std::string::npos)
        << b.expr << ": " << s.message();
    EXPECT_EQ(e.offset, b.offset) << b.expr;
    EXPECT_NE(s.message().find(e.what), std::string::npos);
  }
}

// Bounds near 10^18 could wrap the count of names round to a small number
// and then expand for ever.
TEST(HostList, HugeRangesCannotWrapTheCount) {
  std::string e = "n[";
  for (int i = 0; i < 18; ++i) e += "0-999999999999999999,";
  e += "0-446744073709551616]";  // 18 * 10^18 + this = 2^64 + 1
  StatusOr<std::vector<std::string>> r = ExpandHostList(e);
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_NE(r.status().message().find("more than 1048576 names"),
            std::string::npos)
      << r.status().message();
}

// Messages stay on one line whatever the expression holds, and the names'
// memory is bounded as well as their number.
TEST(HostList, MessagesAreOneLineAndMemoryIsBounded) {
  StatusOr<std::vector<std::string>> r = ExpandHostList("a\n[1-x]");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().message(),
            "bad host list: expected a digit, got `x` at column 6 of "
            "`a\\n[1-x]`");
  r = ExpandHostList("n[1-\n]");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  r = ExpandHostList("a[0-99]b[0-99]" + std::string(10000, 'x'));
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_NE(r.status().message().find("bytes of names"), std::string::npos);
}

// A long list of plain names expands in linear time.
TEST(HostList, LongListsAreLinear) {
  std::string e;
  for (int i = 0; i < 200000; ++i) e += (i ? ",h" : "h") + std::to_string(i);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(X(e).size(), 200000u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(HostList, Compresses) {
  EXPECT_EQ(CompressHostList({"c0", "c1", "c2", "c3", "c4", "c5", "c7"}),
            "c[0-5,7]");
  EXPECT_EQ(CompressHostList(X("gpu-[001-128]")), "gpu-[001-128]");
  EXPECT_EQ(CompressHostList({"c9", "c10", "c11"}), "c[9-11]");
  EXPECT_EQ(CompressHostList({"login", "c3", "c1", "c2", "login"}),
            "login,c[1-3]");
  EXPECT_EQ(CompressHostList({"n098", "n099", "n100"}), "n[098-100]");
  EXPECT_EQ(CompressHostList({"n5"}), "n5");
  EXPECT_EQ(CompressHostList({}), "");
}

TEST(HostList, CompressThenExpandIsTheSameSet) {
  std::mt19937 rng(4242);
  const char* prefixes[] = {"c", "gpu-", "node", "r1n", "x"};
  for (int trial = 0; trial < 300; ++trial) {
    std::set<std::string> names;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const std::string prefix = prefixes[rng() % 5];
      const int v = static_cast<int>(rng() % 150);
      std::string d = std::to_string(v);
      if (rng() % 2) {
        const size_t width = 3 + rng() % 2;
        if (d.size() < width) d.insert(0, width - d.size(), '0');
      }
      names.insert(rng() % 10 == 0 ? "login" + std::to_string(rng() % 2) + "x"
                                   : prefix + d);
    }
    const std::vector<std::string> in(names.begin(), names.end());
    const std::string compressed = CompressHostList(in);
    StatusOr<std::vector<std::string>> back = ExpandHostList(compressed);
    ASSERT_THAT(back, IsOk()) << compressed << ": " << back.status().message();
    EXPECT_EQ(std::set<std::string>(back->begin(), back->end()), names)
        << compressed;
    EXPECT_EQ(back->size(), names.size()) << compressed;
  }
}

}  // namespace
}  // namespace dstrain::topology
