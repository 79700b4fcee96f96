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
  EXPECT_EQ(X("[1-2]"), (V{"1", "2"}));
  EXPECT_EQ(X("n[1-2][3]"), (V{"n13", "n23"}));
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

// As Slurm: spaces, tabs and newlines separate names as commas do, and
// empty items are skipped.
TEST(HostList, SeparatorsAndEmptyItemsAreSlurms) {
  EXPECT_EQ(X("n1,n2 c[1-2]\tz q"), (V{"n1", "n2", "c1", "c2", "z", "q"}));
  EXPECT_EQ(X(",,a,, b ,"), (V{"a", "b"}));
  EXPECT_EQ(X(""), V{});
  EXPECT_EQ(X(" , "), V{});
}

// Slurm's order for three brackets or more: the last fastest, then the
// first, the second, ..., the second-to-last slowest (scontrol prints
// a1b3c5d7 a1b3c5d8 a2b3c5d7 ... for the four below).
TEST(HostList, BracketsMultiplyInSlurmsOrder) {
  EXPECT_EQ(X("a[1-2]b[3-4]c[5-6]"),
            (V{"a1b3c5", "a1b3c6", "a2b3c5", "a2b3c6", "a1b4c5", "a1b4c6",
               "a2b4c5", "a2b4c6"}));
  const V four = X("a[1-2]b[3-4]c[5-6]d[7-8]");
  ASSERT_EQ(four.size(), 16u);
  EXPECT_EQ(V(four.begin(), four.begin() + 5),
            (V{"a1b3c5d7", "a1b3c5d8", "a2b3c5d7", "a2b3c5d8", "a1b4c5d7"}));
  EXPECT_EQ(four.back(), "a2b4c6d8");
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
      {"c1]", "`]` without `[` at column 3", 2},
      {"c[1[2]]", "nested `[` at column 4", 3},
      {"x[0-99999999]",
       "range `0-99999999` has 100000000 names; Slurm expands at most 65536 "
       "in one range, so split it at column 3",
       2},
      {"c[0-65536]", "range `0-65536` has 65537 names", 2},
      {"a[1-3]-ib",
       "text `-ib` after the last `]`, which Slurm refuses; name such hosts "
       "one by one at column 7",
       6},
      {"a[1-2]b[3-4]c", "text `c` after the last `]`", 12},
      {"ok,a[1]x y", "text `x` after the last `]`", 7},
      {"c[ 1]", "expected a digit, got ` ` at column 3", 2},
      {"c[+1]", "expected a digit, got `+` at column 3", 2},
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

// Four brackets of 65,536 make 2^64 names, which a plain product would
// wrap round to none and then expand for ever.
TEST(HostList, HugeProductsCannotWrapTheCount) {
  const std::string e = "n[0-65535][0-65535][0-65535][0-65535]";
  StatusOr<std::vector<std::string>> r = ExpandHostList(e);
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_NE(r.status().message().find("more than 1048576 names"),
            std::string::npos)
      << r.status().message();
  uint64_t count = 0;
  ASSERT_THAT(CountHostList(e, &count), IsOk());
  EXPECT_EQ(count, UINT64_MAX);
  ASSERT_THAT(CountHostList("a[1-3],b[01-02]c[7] d", &count), IsOk());
  EXPECT_EQ(count, 6u);
}

// A list too long is refused before a single name is built: what the caller
// had is left as it was, and no memory goes to names that are then thrown
// away (17 ranges of 65,536 names, one more than the limit, would be a
// million strings).
TEST(HostList, TooManyNamesAreRefusedBeforeAnyIsBuilt) {
  std::string e;
  for (char c = 'a'; c <= 'q'; ++c)
    e += std::string(e.empty() ? "" : ",") + c + "[0-65535]";
  std::vector<std::string> out = {"kept"};
  HostListError error;
  ASSERT_THAT(ExpandHostList(e, &out, &error), Not(IsOk()));
  EXPECT_EQ(out, V{"kept"});
  // The item that crosses the limit: the 16th, with the caller's name.
  EXPECT_EQ(error.offset, 15u * 11);
  EXPECT_EQ(error.what,
            "more than 1048576 names, the most dstrain expands in one list");
  // The caller's names count towards the limit.
  out.assign(kMaxHostListNames - 1, "x");
  EXPECT_THAT(ExpandHostList("y", &out, nullptr), IsOk());
  EXPECT_THAT(ExpandHostList("z", &out, nullptr), Not(IsOk()));
  EXPECT_EQ(out.size(), kMaxHostListNames);
}

// Messages stay on one line whatever the expression holds, and the names'
// memory is bounded as well as their number.
TEST(HostList, MessagesAreOneLineAndMemoryIsBounded) {
  StatusOr<std::vector<std::string>> r = ExpandHostList("a\n[1-x]");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().message(),
            "bad host list: control character `\\n` in a name (Slurm would "
            "keep it in the name) at column 2 of `a\\n[1-x]`");
  r = ExpandHostList("n[1-\n]");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  r = ExpandHostList(std::string(10000, 'x') + "a[0-99]b[0-99]");
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
