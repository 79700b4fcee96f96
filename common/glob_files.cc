#include "common/glob_files.h"

#include <glob.h>
#include <sys/stat.h>

namespace dstrain {

bool IsGlobPattern(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> GlobFiles(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), GLOB_ERR, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc && out.size() < 1'000'000; ++i) {
      struct stat st {};
      if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
        out.emplace_back(g.gl_pathv[i]);
      }
    }
  }
  globfree(&g);
  return out;
}

}  // namespace dstrain
