// Key lookups, key errors with suggestions, and duplicate keys.

#include "common/yaml/keys.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/testing/status_matchers.h"
#include "common/yaml/duplicate_keys.h"

namespace dstrain::yaml {
namespace {

using ::dstrain::testing::IsOk;

const Locator kFile("k.yaml");

TEST(Keys, LookupAndValueMark) {
  const YAML::Node map = YAML::Load("a: 1\nb:\nc: x\n");
  EXPECT_TRUE(Lookup(map, "a").present());
  EXPECT_FALSE(Lookup(map, "z").present());
  EXPECT_FALSE(Lookup(YAML::Load("[a]"), "a").present());
  // A null value points at its key.
  EXPECT_EQ(kFile.At(Lookup(map, "b").mark()), "k.yaml:2:1");
  EXPECT_EQ(kFile.At(Lookup(map, "c").mark()), "k.yaml:3:4");
}

TEST(Keys, CheckKeysSuggestsOrLists) {
  const YAML::Node map = YAML::Load("nmae: x\n");
  EXPECT_EQ(CheckKeys(map, kFile, "", {"name", "hosts"}).message(),
            "unknown key `nmae` at k.yaml:1:1; did you mean `name`?");
  EXPECT_EQ(
      CheckKeys(YAML::Load("zzz: 1"), kFile, "defaults", {"name", "hosts"})
          .message(),
      "unknown key `zzz` at k.yaml:1:1 (valid keys in `defaults`: name, "
      "hosts)");
  EXPECT_EQ(CheckKeys(YAML::Load("gpus: 1"), kFile, "", {"devices"},
                      {{"gpus", "devices", 1}})
                .message(),
            "unknown key `gpus` at k.yaml:1:1; did you mean `devices`?");
  EXPECT_EQ(
      CheckKeys(YAML::Load("? [a, b]\n: 1\n"), kFile, "", {"a"}).message(),
      "key at k.yaml:1:3: expected a name, got a list of 2 items");
  EXPECT_THAT(CheckKeys(YAML::Load("name: 1"), kFile, "", {"name"}), IsOk());
}

TEST(Keys, OverridePlaces) {
  const Place ov{Place::Kind::kOverride, "nmae=x"};
  EXPECT_EQ(UnknownKey(ov, "nmae", "", {"name"}, "name").message(),
            "--set `nmae=x`: unknown key `nmae`; did you mean `name`?");
}

TEST(DuplicateKeys, FirstRepeatInDocumentOrder) {
  const YAML::Node doc =
      YAML::Load("a:\n  x: 1\n  x: 2\nb: 1\nb: 2\nc: [{y: 1, y: 2}]\n");
  EXPECT_EQ(CheckNoDuplicateKeys(doc, kFile).message(),
            "duplicate key `x` at k.yaml:3:3 (first at k.yaml:2:3)");
  EXPECT_EQ(
      CheckNoDuplicateKeys(YAML::Load("c: [{y: 1, y: 2}]\nb: 1\nb: 2"), kFile)
          .message(),
      "duplicate key `y` at k.yaml:1:12 (first at k.yaml:1:6)");
  EXPECT_THAT(CheckNoDuplicateKeys(YAML::Load("a: {x: 1}\nb: {x: 1}"), kFile),
              IsOk());
}

TEST(DuplicateKeys, DeepTreesNeedNoStack) {
  YAML::Node root(YAML::NodeType::Map);
  YAML::Node cur = root;
  for (int i = 0; i < 20000; ++i) {
    YAML::Node next(YAML::NodeType::Map);
    cur["k"] = next;
    cur.reset(next);
  }
  EXPECT_FALSE(FindDuplicateKey(root).has_value());
}

}  // namespace
}  // namespace dstrain::yaml
