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
constexpr uint64_t kMaxHostListBytes = uint64_t{64} << 20;

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

// What separates names outside brackets, as `scontrol show hostnames`
// splits them (a newline is not among them: Slurm keeps it in the name).
bool IsSeparator(char c) { return c == ',' || c == ' ' || c == '\t'; }

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 || u == 0x7f) && c != '\t';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Range {
  uint64_t lo = 0, hi = 0;
  size_t width = 0;  // digits of the lower bound as written
};

// One part of an item: literal text, or a bracket of ranges.
struct Part {
  std::string text;
  std::vector<Range> ranges;  // empty for literal text
};

// One name pattern between separators, parsed but not expanded.
struct Item {
  size_t begin = 0;  // offset in the expression
  std::vector<Part> parts;
  uint64_t count = 1;      // names it expands to (saturating)
  uint64_t name_size = 0;  // the longest name's length
};

// Parses a whole expression before a single name is built: every syntax
// error, and every count, is known first.
class Parser {
 public:
  Parser(std::string_view expr, HostListError* error)
      : expr_(expr), error_(error) {}

  Status Parse(std::vector<Item>* items) {
    size_t i = 0;
    while (i < expr_.size()) {
      if (IsSeparator(expr_[i])) {
        ++i;  // empty items are skipped, as Slurm skips them
        continue;
      }
      const size_t begin = i;
      size_t open = 0;
      bool in_bracket = false;
      for (; i < expr_.size(); ++i) {
        const char c = expr_[i];
        if (IsControl(c)) {
          return Error(i, "control character " +
                              yaml::Quoted(expr_.substr(i, 1)) +
                              " in a name (Slurm would keep it in the name)");
        }
        if (c == '[') {
          if (in_bracket) return Error(i, "nested `[`");
          in_bracket = true;
          open = i;
        } else if (c == ']') {
          if (!in_bracket) return Error(i, "`]` without `[`");
          in_bracket = false;
        } else if (!in_bracket && IsSeparator(c)) {
          break;
        }
      }
      if (in_bracket) return Error(open, "`[` is never closed");
      Item item;
      DSTRAIN_RETURN_IF_ERROR(ParseItem(begin, i, &item));
      items->push_back(std::move(item));
    }
    return Status::Ok();
  }

  Status Error(size_t offset, const std::string& what) {
    if (error_ != nullptr) *error_ = HostListError{offset, what};
    return InvalidArgument("bad host list: " + what + " at column " +
                           std::to_string(offset + 1) + " of " +
                           yaml::Quoted(expr_));
  }

 private:
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

  // The ranges between `[` at `open` and `]` at `close`, and how many
  // names they make.
  Status Bracket(size_t open, size_t close, Part* part, uint64_t* names,
                 size_t* digits) {
    size_t start = open + 1;
    *names = 0;
    *digits = 0;
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
        // Checked before anything is built: `n[0-99999999]` costs nothing.
        if (range.hi - range.lo >= kMaxHostRangeNames) {
          return Error(start, "range `" + std::string(r) + "` has " +
                                  std::to_string(range.hi - range.lo + 1) +
                                  " names; Slurm expands at most " +
                                  std::to_string(kMaxHostRangeNames) +
                                  " in one range, so split it");
        }
      }
      range.width = dash == std::string_view::npos ? i - start : dash;
      // At most kMaxHostRangeNames per range and fewer ranges than
      // characters: the sum cannot wrap.
      *names += range.hi - range.lo + 1;
      *digits =
          std::max({*digits, range.width, std::to_string(range.hi).size()});
      part->ranges.push_back(range);
      start = i + 1;
    }
    return Status::Ok();
  }

  Status ParseItem(size_t begin, size_t end, Item* item) {
    item->begin = begin;
    bool bracketed = false;
    for (size_t i = begin; i < end;) {
      if (expr_[i] == '[') {
        const size_t close = expr_.find(']', i);  // Parse() checked nesting
        Part p;
        uint64_t names = 0;
        size_t digits = 0;
        DSTRAIN_RETURN_IF_ERROR(Bracket(i, close, &p, &names, &digits));
        // Saturating: `[0-65535]` four times is 2^64 names, which a plain
        // product would wrap round to none.
        item->count = SaturatingMul(item->count, names);
        item->name_size += digits;
        item->parts.push_back(std::move(p));
        bracketed = true;
        i = close + 1;
      } else {
        // Within this item only: searching the rest of the expression for
        // each item made long lists quadratic.
        const size_t bracket = expr_.substr(i, end - i).find('[');
        if (bracket == std::string_view::npos && bracketed) {
          return Error(i, "text " + yaml::Quoted(expr_.substr(i, end - i)) +
                              " after the last `]`, which Slurm refuses; "
                              "name such hosts one by one");
        }
        const size_t next =
            bracket == std::string_view::npos ? end : i + bracket;
        item->parts.push_back(Part{std::string(expr_.substr(i, next - i)), {}});
        item->name_size += next - i;
        i = next;
      }
    }
    return Status::Ok();
  }

  std::string_view expr_;
  HostListError* error_;
};

// The names of one item in Slurm's order (hostlist.c's _push_range_list
// takes brackets off the end of the prefix): the last bracket varies
// fastest, then the first, the second, and so on, the second-to-last
// slowest. With two brackets that is the first outermost: a1b3 a1b4 a2b3.
void Emit(const std::vector<Part>& parts, std::vector<std::string>* out) {
  std::vector<size_t> brackets;
  for (size_t i = 0; i < parts.size(); ++i)
    if (!parts[i].ranges.empty()) brackets.push_back(i);
  std::vector<size_t> order;  // outermost first
  if (!brackets.empty()) {
    for (size_t j = brackets.size() - 1; j-- > 0;) order.push_back(brackets[j]);
    order.push_back(brackets.back());
  }
  std::vector<std::string> digits(parts.size());
  // An odometer over `order`, the last wheel the fastest.
  std::vector<size_t> range_at(order.size(), 0);
  std::vector<uint64_t> value(order.size());
  for (size_t d = 0; d < order.size(); ++d)
    value[d] = parts[order[d]].ranges[0].lo;
  for (;;) {
    for (size_t d = 0; d < order.size(); ++d) {
      const Range& r = parts[order[d]].ranges[range_at[d]];
      std::string text = std::to_string(value[d]);
      if (text.size() < r.width) text.insert(0, r.width - text.size(), '0');
      digits[order[d]] = std::move(text);
    }
    std::string name;
    for (size_t i = 0; i < parts.size(); ++i)
      name += parts[i].ranges.empty() ? parts[i].text : digits[i];
    out->push_back(std::move(name));
    size_t d = order.size();
    for (; d > 0; --d) {
      const std::vector<Range>& ranges = parts[order[d - 1]].ranges;
      if (value[d - 1] < ranges[range_at[d - 1]].hi) {
        ++value[d - 1];
        break;
      }
      if (range_at[d - 1] + 1 < ranges.size()) {
        value[d - 1] = ranges[++range_at[d - 1]].lo;
        break;
      }
      range_at[d - 1] = 0;
      value[d - 1] = ranges[0].lo;
    }
    if (d == 0) return;
  }
}

}  // namespace

Status ExpandHostList(std::string_view expr, std::vector<std::string>* out,
                      HostListError* error) {
  Parser parser(expr, error);
  std::vector<Item> items;
  DSTRAIN_RETURN_IF_ERROR(parser.Parse(&items));
  // Both limits before the first name is built: the count of names, and
  // their memory (many names with a long literal part would exhaust it).
  uint64_t total = out->size();
  uint64_t bytes = 0;
  for (const Item& item : items) {
    total = SaturatingAdd(total, item.count);
    if (total > kMaxHostListNames) {
      return parser.Error(item.begin,
                          "more than " + std::to_string(kMaxHostListNames) +
                              " names, the most dstrain expands in one list");
    }
    bytes = SaturatingAdd(bytes, SaturatingMul(item.count, item.name_size));
    if (bytes > kMaxHostListBytes) {
      return parser.Error(
          item.begin,
          "more than " + std::to_string(kMaxHostListBytes) + " bytes of names");
    }
  }
  out->reserve(total);
  for (const Item& item : items) Emit(item.parts, out);
  return Status::Ok();
}

StatusOr<std::vector<std::string>> ExpandHostList(std::string_view expr) {
  std::vector<std::string> out;
  DSTRAIN_RETURN_IF_ERROR(ExpandHostList(expr, &out, nullptr));
  return out;
}

Status CountHostList(std::string_view expr, uint64_t* count,
                     HostListError* error) {
  std::vector<Item> items;
  DSTRAIN_RETURN_IF_ERROR(Parser(expr, error).Parse(&items));
  *count = 0;
  for (const Item& item : items) *count = SaturatingAdd(*count, item.count);
  return Status::Ok();
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
