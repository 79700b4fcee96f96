#include "common/yaml/duplicate_keys.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <vector>

#include "common/yaml/text.h"

namespace dstrain::yaml {

namespace {

// One collection being walked: the next child to visit, and (for a
// mapping) the keys seen so far.
struct Frame {
  YAML::Node node;
  YAML::const_iterator next;
  YAML::const_iterator end;
  std::map<std::string, YAML::Mark> seen;
};

void Push(const YAML::Node& n, std::vector<Frame>* stack) {
  if (n.IsSequence() || n.IsMap()) {
    stack->push_back(Frame{n, n.begin(), n.end(), {}});
  }
}

}  // namespace

std::optional<DuplicateKey> FindDuplicateKey(const YAML::Node& node) {
  // Depth first, children in order, one entry at a time: the first repeat
  // in document order, as a recursive walk would find it.
  std::vector<Frame> stack;
  Push(node, &stack);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.end) {
      stack.pop_back();
      continue;
    }
    // reset(), not operator=: assigning to a YAML::Node writes through it.
    YAML::Node child;
    if (f.node.IsMap()) {
      const YAML::Node key = f.next->first;
      child.reset(f.next->second);
      if (key.IsScalar()) {
        auto [pos, fresh] = f.seen.emplace(key.Scalar(), key.Mark());
        if (!fresh) return DuplicateKey{key.Scalar(), key.Mark(), pos->second};
      }
    } else {
      child.reset(*f.next);
    }
    ++f.next;
    Push(child, &stack);  // may move `f`: not used after this
  }
  return std::nullopt;
}

Status CheckNoDuplicateKeys(const YAML::Node& node, const Locator& file) {
  const std::optional<DuplicateKey> d = FindDuplicateKey(node);
  if (!d) return Status::Ok();
  return InvalidArgument("duplicate key " + Quoted(d->key) + " at " +
                         file.At(d->at) + " (first at " + file.At(d->first) +
                         ")");
}

}  // namespace dstrain::yaml
