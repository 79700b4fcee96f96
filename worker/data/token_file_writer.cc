// WriteTokenFile (dataset_writers.h).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "worker/data/dataset_writers.h"
#include "worker/data/sidecar.h"

namespace dstrain::data {

Status WriteTokenFile(const std::string& path, TokenSource& source,
                      const std::string& dtype, std::int64_t vocab,
                      const WriteProgress& progress) {
  const int elem = DtypeBytes(dtype);
  if (elem == 0)
    return InvalidArgument("--dtype " + dtype + ": uint16 or uint32");
  const std::int64_t limit = elem == 2 ? 65536 : (std::int64_t{1} << 32);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return InvalidArgument("cannot write " + tmp + ": " + std::strerror(errno));
  }
  auto fail = [&](const std::string& why) {
    std::fclose(f);
    std::remove(tmp.c_str());
    return InvalidArgument(why);
  };
  const std::int64_t total = source.size();
  const std::int64_t step = std::int64_t{1} << 20;
  std::vector<std::int64_t> in;
  std::vector<unsigned char> out;
  for (std::int64_t b = 0; b < total; b += step) {
    const std::int64_t n = std::min(step, total - b);
    in.resize(static_cast<std::size_t>(n));
    Status s = source.Read(b, n, in.data());
    if (!s.ok()) return fail(s.message());
    out.resize(static_cast<std::size_t>(n * elem));
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t id = in[static_cast<std::size_t>(k)];
      if (id < 0 || id >= limit || (vocab > 0 && id >= vocab)) {
        return fail("token id " + std::to_string(id) + " at " +
                    source.Locate(b + k) + " does not fit " + dtype +
                    (vocab > 0 ? " below vocabulary " + std::to_string(vocab)
                               : std::string()));
      }
      const auto v = static_cast<std::uint32_t>(id);
      std::memcpy(out.data() + k * elem, &v, static_cast<std::size_t>(elem));
    }
    if (std::fwrite(out.data(), 1, out.size(), f) != out.size()) {
      return fail("cannot write " + tmp + ": " + std::strerror(errno));
    }
    if (progress) progress(b + n, total);
  }
  if (std::fflush(f) != 0 || fsync(fileno(f)) != 0) {
    return fail("cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::fclose(f);
  Sidecar side;
  side.dtype = dtype;
  side.vocab = vocab;
  side.tokens = total;
  const std::string side_tmp = tmp + ".json";
  {
    std::ofstream js(side_tmp);
    js << SidecarJson(side);
    if (!js) {
      std::remove(tmp.c_str());
      return InvalidArgument("cannot write " + side_tmp);
    }
  }
  // The sidecar first: a reader that finds the data finds its sidecar.
  if (std::rename(side_tmp.c_str(), (path + ".json").c_str()) != 0 ||
      std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    std::remove(side_tmp.c_str());
    return InvalidArgument("cannot rename onto " + path + ": " +
                           std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace dstrain::data
