#include "tests/fuzz/mutator.h"

#include <string_view>
#include <vector>

namespace dstrain::fuzz {
namespace {

constexpr std::size_t kMaxSize = std::size_t{1} << 20;

const char kAlphabet[] = "[]{}-,:#\\\n =\"'0179ax\t&*!|>?%@`.";

// Values that have broken number parsers somewhere.
const char* const kNumbers[] = {
    "1e400",
    "-1e400",
    "1e-400",
    "99999999999999999999",
    "-99999999999999999999",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483648",
    "4294967296",
    "nan",
    ".inf",
    "-.inf",
    "0x7fffffff",
    "1_000",
    "+-5",
    "0",
    "-0",
    "1e308",
    "4.9e-324",
    "65536",
    "100000",
    "1000000",
    "1073741823",
};

// Ranges and lists that would expand to a great many things.
const char* const kWide[] = {
    "[0-999999999]",   "n[0-1048576]",          "0-4294967295",
    "[000000-999999]", "a[0-99]b[0-99]c[0-99]", "0-65536,0-65536,0-65536",
};

const char* const kTokens[] = {
    ",",  ",a",     "[1],", "---\n",  "...\n", "]",           "}",
    "? ", ": ",     "- ",   "!!str ", "!t ",   "%YAML 1.2\n", "&a ",
    "*a", "<<: *a", "|\n",  ">-\n",   "\"",    "'",           "\\",
};

std::string Repeat(std::string_view unit, std::size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) out.append(unit);
  return out;
}

// a0: &a0 [x, x, ...] and each next level lists the one before `width`
// times: a tree walk over it visits width^levels nodes.
std::string AliasBomb(std::size_t levels, std::size_t width) {
  std::string out = "\nb0: &b0 [" + Repeat("lol, ", width) + "lol]\n";
  for (std::size_t i = 1; i < levels; ++i) {
    const std::string prev = "*b" + std::to_string(i - 1);
    out += "b" + std::to_string(i) + ": &b" + std::to_string(i) + " [" +
           Repeat(prev + ", ", width) + prev + "]\n";
  }
  return out;
}

}  // namespace

std::string Mutator::Mutate(std::string text) {
  const int edits = 1 + static_cast<int>(Below(3));
  for (int e = 0; e < edits; ++e) {
    switch (Below(8)) {
      case 0:
      case 1:
      case 2:
      case 3:
        SmallEdit(&text);
        break;
      case 4:
        LineEdit(&text);
        break;
      default:
        Splice(&text);
    }
    if (text.size() > kMaxSize) text.resize(kMaxSize);
  }
  return text;
}

void Mutator::SmallEdit(std::string* s) {
  if (s->empty()) {
    s->push_back(kAlphabet[Below(sizeof(kAlphabet) - 1)]);
    return;
  }
  const std::size_t at = Below(s->size());
  switch (Below(4)) {
    case 0:
      s->erase(at, 1 + Below(3));
      break;
    case 1:
      s->insert(at, 1, kAlphabet[Below(sizeof(kAlphabet) - 1)]);
      break;
    case 2:
      (*s)[at] = kAlphabet[Below(sizeof(kAlphabet) - 1)];
      break;
    default:  // duplicate a short slice
      s->insert(at, s->substr(at, 1 + Below(12)));
  }
}

void Mutator::LineEdit(std::string* s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= s->size()) {
    const std::size_t nl = s->find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(s->substr(start));
      break;
    }
    lines.push_back(s->substr(start, nl - start));
    start = nl + 1;
  }
  const std::size_t i = Below(lines.size());
  const std::size_t j = Below(lines.size());
  switch (Below(4)) {
    case 0:
      lines.erase(lines.begin() + static_cast<long>(i));
      break;
    case 1:
      lines.insert(lines.begin() + static_cast<long>(i), lines[j]);
      break;
    case 2:
      std::swap(lines[i], lines[j]);
      break;
    default:  // indent or dedent a line
      if (Below(2) == 0) {
        lines[i].insert(0, 1 + Below(4), ' ');
      } else if (!lines[i].empty() && lines[i][0] == ' ') {
        lines[i].erase(0, 1 + Below(2));
      }
  }
  std::string out;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    if (k > 0) out += '\n';
    out += lines[k];
  }
  *s = std::move(out);
}

std::size_t Mutator::ValuePosition(const std::string& s) {
  if (s.empty()) return 0;
  for (int tries = 0; tries < 8; ++tries) {
    const std::size_t at = Below(s.size());
    if (s[at] == '[' || s[at] == '=' || s[at] == ',' ||
        (at > 0 && s[at - 1] == ' ' && (s[at] != ' ' && s[at] != '\n'))) {
      return at;
    }
  }
  return Below(s.size() + 1);
}

void Mutator::Splice(std::string* s) {
  const std::size_t at = ValuePosition(*s);
  std::string piece;
  switch (Below(10)) {
    case 0: {  // deep flow nesting, closed or not
      static const std::size_t kDepths[] = {70, 600, 5000, 100000};
      const std::size_t n = kDepths[Below(4)];
      const char* open[] = {"[", "{", "{a: ", "[a, "};
      const std::size_t k = Below(4);
      piece = Repeat(open[k], n);
      if (Below(2) == 0) piece += Repeat(k % 2 == 0 ? "]" : "}", n);
      break;
    }
    case 1: {  // deep block nesting
      const std::size_t n = Below(2) == 0 ? 70 : 2000;
      if (Below(2) == 0) {
        piece = "\n" + Repeat("- ", n) + "x\n";
      } else {
        piece = "\n";
        for (std::size_t i = 0; i < n && piece.size() < kMaxSize / 2; ++i) {
          piece += std::string(i, ' ') + "k:\n";
        }
      }
      break;
    }
    case 2:  // alias chains and bombs
      switch (Below(3)) {
        case 0:
          piece = AliasBomb(8 + Below(16), 4 + Below(12));
          break;
        case 1:
          piece = "&a [x, y] ";
          break;
        default:
          piece = Below(2) == 0 ? "*a" : "{<<: *a}";
      }
      break;
    case 3: {  // replace a run of digits with a huge or odd number
      const std::string n = kNumbers[Below(std::size(kNumbers))];
      const std::size_t d = s->find_first_of("0123456789", at);
      if (d == std::string::npos) {
        piece = n;
        break;
      }
      std::size_t e = d;
      while (e < s->size() && (*s)[e] >= '0' && (*s)[e] <= '9') ++e;
      s->replace(d, e - d, n);
      return;
    }
    case 4:
      piece = kWide[Below(std::size(kWide))];
      break;
    case 5: {  // binary junk
      const std::size_t n = 1 + Below(64);
      for (std::size_t i = 0; i < n; ++i) {
        piece.push_back(static_cast<char>(Below(256)));
      }
      break;
    }
    case 6: {  // a very long line, word or number
      static const char* kUnits[] = {"a", "9", "ab ", "é", "[x]"};
      piece = Repeat(kUnits[Below(std::size(kUnits))],
                     Below(2) == 0 ? 5000 : 200000);
      break;
    }
    default:
      piece = kTokens[Below(std::size(kTokens))];
  }
  s->insert(at, piece);
}

}  // namespace dstrain::fuzz
