#pragma once
// Test helpers: the files of a testdata folder, and the `# expect: ...`
// first line that each bad file carries.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dstrain::topology::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::filesystem::path> FilesIn(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The text after `# expect: ` on the first line, or "".
inline std::string Expectation(const std::string& text) {
  const std::string tag = "# expect: ";
  if (text.rfind(tag, 0) != 0) return "";
  return text.substr(tag.size(), text.find('\n') - tag.size());
}

}  // namespace dstrain::topology::testing
