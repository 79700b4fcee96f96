#include "topology/io/hostlist.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/strings.h"
#include "common/yaml/text.h"

namespace dstrain::topology {
namespace {

constexpr size_t kMaxDigits = 18;  // fits uint64 with room to spare
constexpr size_t kMaxHostListBytes = size_t{64} << 20;

struct Range {
  uint64_t lo = 0, hi = 0;
  size_t width = 0;  // digits of the lower bound as written
};

// One part of an item: literal text, or a bracket of ranges.
struct Part {
  std::string text;
  std::vector<Range> ranges;  // empty for literal text
};

class Expander {
 public:
  Expander(std::string_view expr, HostListError* error)
      : expr_(expr), error_(error) {}

  Status Run(std::vector<std::string>* out) {
    size_t start = 0;
    size_t open = 0;
    bool in_bracket = false;
    for (size_t i = 0; i < expr_.size(); ++i) {
      const char c = expr_[i];
      if (c == '[') {
        if (in_bracket) return Error(i, "nested `[`");
        in_bracket = true;
        open = i;
      } else if (c == ']') {
        if (!in_bracket) return Error(i, "`]` without `[`");
        in_bracket = false;
      } else if (c == ',' && !in_bracket) {
        DSTRAIN_RETURN_IF_ERROR(Item(start, i, out));
        start = i + 1;
      }
    }
    if (in_bracket) return Error(open, "`[` is never closed");
    return Item(start, expr_.size(), out);
  }

 private:
  Status Error(size_t offset, const std::string& what) {
    if (error_ != nullptr) *error_ = HostListError{offset, what};
    return InvalidArgument("bad host list: " + what + " at column " +
                           std::to_string(offset + 1) + " of " +
                           yaml::Quoted(expr_));
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  Status Number(size_t begin, size_t end, uint64_t* value) {
    if (begin == end) return Error(begin, "missing number");
    for (size_t i = begin; i < end; ++i) {
      if (!IsDigit(expr_[i])) {
        return Error(
            i, "expected a digit, got " + yaml::Quoted(expr_.substr(i, 1)));
      }
    }
    if (end - begin > kMaxDigits) return Error(begin, "number too long");
    // Only digits, and few enough to fit.
    *value = ParseInteger<uint64_t>(expr_.substr(begin, end - begin)).value();
    return Status::Ok();
  }

  // The ranges between `[` at `open` and `]` at `close`.
  Status Bracket(size_t open, size_t close, std::vector<Range>* ranges) {
    size_t start = open + 1;
    for (size_t i = open + 1; i <= close; ++i) {
      if (i < close && expr_[i] != ',') continue;
      if (start == i) return Error(start, "empty range");
      const std::string_view r = expr_.substr(start, i - start);
      const size_t dash = r.find('-');
      Range range;
      if (dash == std::string_view::npos) {
        DSTRAIN_RETURN_IF_ERROR(Number(start, i, &range.lo));
        range.hi = range.lo;
      } else {
        DSTRAIN_RETURN_IF_ERROR(Number(start, start + dash, &range.lo));
        DSTRAIN_RETURN_IF_ERROR(Number(start + dash + 1, i, &range.hi));
        if (range.hi < range.lo) {
          return Error(start, "range `" + std::string(r) + "` goes down");
        }
      }
      range.width = dash == std::string_view::npos ? i - start : dash;
      ranges->push_back(range);
      start = i + 1;
    }
    return Status::Ok();
  }

  Status Item(size_t begin, size_t end, std::vector<std::string>* out) {
    if (begin == end) return Error(begin, "empty host name");
    std::vector<Part> parts;
    size_t total = 1;
    size_t name_size = 0;  // the longest name's length
    for (size_t i = begin; i < end;) {
      if (expr_[i] == '[') {
        const size_t close = expr_.find(']', i);  // Run() checked nesting
        Part p;
        DSTRAIN_RETURN_IF_ERROR(Bracket(i, close, &p.ranges));
        // Checked range by range: 18-digit bounds could wrap a plain sum
        // round to a small count.
        size_t n = 0;
        size_t digits = 0;
        for (const Range& r : p.ranges) {
          digits = std::max({digits, r.width, std::to_string(r.hi).size()});
          n += r.hi - r.lo + 1;
          if (r.hi - r.lo >= kMaxHostListNames || n > kMaxHostListNames ||
              total * n > kMaxHostListNames) {
            return Error(
                i, "more than " + std::to_string(kMaxHostListNames) + " names");
          }
        }
        total *= n;
        name_size += digits;
        parts.push_back(std::move(p));
        i = close + 1;
      } else {
        // Within this item only: searching the rest of the expression for
        // each item made long lists quadratic.
        const size_t bracket = expr_.substr(i, end - i).find('[');
        const size_t next =
            bracket == std::string_view::npos ? end : i + bracket;
        parts.push_back(Part{std::string(expr_.substr(i, next - i)), {}});
        name_size += next - i;
        i = next;
      }
    }
    if (out->size() + total > kMaxHostListNames) {
      return Error(begin,
                   "more than " + std::to_string(kMaxHostListNames) + " names");
    }
    // The names' memory is bounded as well as their number: many names
    // with a long literal part would exhaust it.
    bytes_ += total * name_size;
    if (bytes_ > kMaxHostListBytes) {
      return Error(begin, "more than " + std::to_string(kMaxHostListBytes) +
                              " bytes of names");
    }
    std::string name;
    Emit(parts, 0, &name, out);
    return Status::Ok();
  }

  static void Emit(const std::vector<Part>& parts, size_t k, std::string* name,
                   std::vector<std::string>* out) {
    if (k == parts.size()) {
      out->push_back(*name);
      return;
    }
    const size_t keep = name->size();
    if (parts[k].ranges.empty()) {
      *name += parts[k].text;
      Emit(parts, k + 1, name, out);
    } else {
      for (const Range& r : parts[k].ranges) {
        for (uint64_t v = r.lo;; ++v) {
          const std::string digits = std::to_string(v);
          name->append(r.width > digits.size() ? r.width - digits.size() : 0,
                       '0');
          *name += digits;
          Emit(parts, k + 1, name, out);
          name->resize(keep);
          if (v == r.hi) break;
        }
      }
    }
    name->resize(keep);
  }

  std::string_view expr_;
  HostListError* error_;
  size_t bytes_ = 0;  // an upper bound on the names' bytes so far
};

}  // namespace

Status ExpandHostList(std::string_view expr, std::vector<std::string>* out,
                      HostListError* error) {
  return Expander(expr, error).Run(out);
}

StatusOr<std::vector<std::string>> ExpandHostList(std::string_view expr) {
  std::vector<std::string> out;
  DSTRAIN_RETURN_IF_ERROR(ExpandHostList(expr, &out, nullptr));
  return out;
}

std::string CompressHostList(const std::vector<std::string>& names) {
  struct Split {
    std::string prefix;
    std::string digits;  // empty: not a numbered name
  };
  auto split = [](const std::string& n) {
    size_t i = n.size();
    while (i > 0 && n[i - 1] >= '0' && n[i - 1] <= '9') --i;
    if (i == n.size() || n.size() - i > kMaxDigits) return Split{n, ""};
    return Split{n.substr(0, i), n.substr(i)};
  };
  auto padded = [](const std::string& d) {
    return d.size() > 1 && d[0] == '0';
  };

  std::set<std::pair<std::string, size_t>> padded_widths;
  for (const std::string& n : names) {
    Split s = split(n);
    if (!s.digits.empty() && padded(s.digits))
      padded_widths.emplace(s.prefix, s.digits.size());
  }
  struct Group {
    std::string prefix;
    size_t width = 0;  // 0 = natural width
    std::vector<uint64_t> numbers;
    bool plain = false;  // a name without digits
  };
  std::vector<Group> groups;
  std::map<std::pair<std::string, size_t>, size_t> index;
  std::set<std::string> plain_seen;
  for (const std::string& n : names) {
    Split s = split(n);
    if (s.digits.empty()) {
      if (plain_seen.insert(n).second) groups.push_back(Group{n, 0, {}, true});
      continue;
    }
    size_t width = 0;
    if (padded(s.digits) || padded_widths.count({s.prefix, s.digits.size()}))
      width = s.digits.size();
    auto [it, fresh] =
        index.emplace(std::make_pair(s.prefix, width), groups.size());
    if (fresh) groups.push_back(Group{s.prefix, width, {}, false});
    groups[it->second].numbers.push_back(
        ParseInteger<uint64_t>(s.digits).value());
  }

  auto format = [](uint64_t v, size_t width) {
    std::string d = std::to_string(v);
    if (d.size() < width) d.insert(0, width - d.size(), '0');
    return d;
  };
  std::string out;
  for (Group& g : groups) {
    if (!out.empty()) out += ',';
    if (g.plain) {
      out += g.prefix;
      continue;
    }
    std::sort(g.numbers.begin(), g.numbers.end());
    g.numbers.erase(std::unique(g.numbers.begin(), g.numbers.end()),
                    g.numbers.end());
    if (g.numbers.size() == 1) {
      out += g.prefix + format(g.numbers[0], g.width);
      continue;
    }
    out += g.prefix + '[';
    for (size_t i = 0; i < g.numbers.size();) {
      size_t j = i;
      while (j + 1 < g.numbers.size() && g.numbers[j + 1] == g.numbers[j] + 1)
        ++j;
      if (i) out += ',';
      out += format(g.numbers[i], g.width);
      if (j > i) out += '-' + format(g.numbers[j], g.width);
      i = j + 1;
    }
    out += ']';
  }
  return out;
}

}  // namespace dstrain::topology
