#include "common/yaml/parse.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/yaml/text_check.h"

namespace dstrain::yaml {
namespace {

// Thrown by the event handler to stop the parser at once.
struct Stop {
  ParseError error;
};

// The name of the alias at `pos` (`*name`), as written, cut short.
std::string AliasAt(std::string_view text, int pos) {
  constexpr std::size_t kLongest = 40;
  std::string out;
  for (auto i = static_cast<std::size_t>(pos < 0 ? 0 : pos);
       i < text.size() && out.size() < kLongest; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
        c == '[' || c == ']' || c == '{' || c == '}') {
      break;
    }
    out += c;
  }
  return out.empty() ? "*" : out;
}

// The whole UTF-8 character at `pos`, or "end of file".
std::string CharAt(std::string_view text, int pos) {
  if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) {
    return "end of file";
  }
  std::size_t end = static_cast<std::size_t>(pos) + 1;
  while (end < text.size() &&
         (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    ++end;
  }
  return std::string(text.substr(static_cast<std::size_t>(pos), end - pos));
}

// Records where documents start; stops the parser at the first alias and
// at the first collection deeper than the limit.
class Scout : public YAML::EventHandler {
 public:
  Scout(std::string_view text, std::string_view what, int max_depth)
      : text_(text), what_(what), max_depth_(max_depth) {}

  const std::vector<YAML::Mark>& starts() const { return starts_; }
  // The first node of each document.
  const std::vector<YAML::Mark>& contents() const { return contents_; }

  void OnDocumentStart(const YAML::Mark& m) override {
    starts_.push_back(m);
    depth_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Node(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override {
    ParseError e;
    e.kind = ParseError::Kind::kAlias;
    e.mark = m;
    e.what = what_;
    e.detail = AliasAt(text_, m.pos);
    throw Stop{e};
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Enter(m);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(m);
    Enter(m);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Node(const YAML::Mark& m) {
    if (contents_.size() < starts_.size()) contents_.push_back(m);
  }

  void Enter(const YAML::Mark& m) {
    if (++depth_ > max_depth_) {
      ParseError e;
      e.kind = ParseError::Kind::kTooDeep;
      e.mark = m;
      e.what = what_;
      e.limit = static_cast<std::size_t>(max_depth_);
      throw Stop{e};
    }
  }

  std::string_view text_;
  std::string what_;
  int max_depth_;
  int depth_ = 0;
  std::vector<YAML::Mark> starts_;
  std::vector<YAML::Mark> contents_;
};

// yaml-cpp's exceptions as ParseErrors. Call from a catch block.
ParseError FromException(std::string_view what, std::size_t max_depth) {
  ParseError e;
  e.what = what;
  try {
    throw;
  } catch (const YAML::DeepRecursion& x) {
    // yaml-cpp's own recursion guard, deeper than ours: only reachable if
    // the limit is set above it.
    e.kind = ParseError::Kind::kTooDeep;
    e.mark = x.mark;
    e.limit = max_depth;
  } catch (const YAML::ParserException& x) {
    e.kind = ParseError::Kind::kSyntax;
    e.mark = x.mark;
    e.detail = x.msg;
  } catch (const YAML::Exception& x) {
    e.kind = ParseError::Kind::kUnreadable;
    e.detail = x.msg;
  }
  return e;
}

}  // namespace

std::optional<ParseError> Parse(std::string_view text, std::string_view what,
                                const Limits& limits, YAML::Node* out) {
  if (std::optional<ParseError> e = CheckText(text, what, limits)) return e;
  const auto max_depth = static_cast<std::size_t>(limits.max_depth);

  // Three documents are enough to see a second one, and a stuck token
  // (two starts at one position) however the documents before it end.
  Scout scout(text, what, limits.max_depth);
  const std::string owned(text);
  try {
    std::istringstream in(owned);
    YAML::Parser parser(in);
    for (int n = 0; n < 3 && parser.HandleNextDocument(scout); ++n) {
    }
  } catch (const Stop& stop) {
    return stop.error;
  } catch (const YAML::Exception&) {
    return FromException(what, max_depth);
  }
  const std::vector<YAML::Mark>& starts = scout.starts();
  for (std::size_t i = 1; i < starts.size(); ++i) {
    if (starts[i].pos == starts[i - 1].pos) {
      ParseError e;
      e.kind = ParseError::Kind::kStuckToken;
      e.mark = starts[i];
      e.what = what;
      e.detail = CharAt(text, starts[i].pos);
      return e;
    }
  }
  if (starts.size() > 1) {
    ParseError e;
    e.kind = ParseError::Kind::kSecondDocument;
    e.mark = starts[1];
    if (scout.contents().size() > 1) e.content_mark = scout.contents()[1];
    e.what = what;
    return e;
  }
  try {
    // reset(), not operator=: assigning to a YAML::Node writes through it.
    out->reset(YAML::Load(owned));  // one document: cannot loop
  } catch (const YAML::Exception&) {
    return FromException(what, max_depth);
  }
  return std::nullopt;
}

}  // namespace dstrain::yaml
