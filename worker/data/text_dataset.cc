#include "worker/data/text_dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/unique_fd.h"

namespace dstrain::data {
namespace fs = std::filesystem;
namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Appends the whole of `path` to `out`.
Status ReadInto(const std::string& path, std::vector<std::uint8_t>& out) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return NotFound(Errno("cannot open data file", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Internal(Errno("cannot stat data file", path));
  }
  const std::size_t start = out.size();
  out.resize(start + static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < static_cast<std::size_t>(st.st_size)) {
    const ssize_t n =
        ::read(fd.get(), out.data() + start + done, out.size() - start - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(Errno("cannot read data file", path));
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  out.resize(start + done);
  return Status::Ok();
}

}  // namespace

TextDataset::~TextDataset() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

StatusOr<std::unique_ptr<TextDataset>> TextDataset::Open(
    const std::string& path) {
  std::unique_ptr<TextDataset> ds(new TextDataset());
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return NotFound("data.path " + path + " does not exist");
  }

  if (fs::is_directory(st)) {
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
      std::error_code lec;
      const fs::file_status ls = e.symlink_status(lec);
      if (lec || !fs::is_regular_file(ls)) continue;  // symlinks, folders
      if (e.path().extension() == ".dat") continue;   // fortune indexes
      names.push_back(e.path().filename().string());
    }
    if (ec)
      return Internal("cannot list data folder " + path + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string file = (fs::path(path) / name).string();
      DSTRAIN_RETURN_IF_ERROR(ReadInto(file, ds->buffer_));
      ds->files_.push_back(file);
    }
    if (ds->files_.empty()) {
      return InvalidArgument("data folder " + path +
                             " holds no regular non-.dat files");
    }
    ds->data_ = ds->buffer_.data();
    ds->size_ = ds->buffer_.size();
  } else {
    // The mapping outlives the descriptor.
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return NotFound(Errno("cannot open data file", path));
    struct stat fst {};
    if (::fstat(fd.get(), &fst) != 0) {
      return Internal(Errno("cannot stat data file", path));
    }
    const auto size = static_cast<std::size_t>(fst.st_size);
    if (size > 0) {
      void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
      if (m == MAP_FAILED) return Internal(Errno("cannot map data file", path));
      ds->mapping_ = m;
      ds->data_ = static_cast<const std::uint8_t*>(m);
      ds->size_ = size;
    }
    ds->files_.push_back(path);
  }
  if (ds->size_ == 0) return InvalidArgument("data.path " + path + " is empty");
  return ds;
}

}  // namespace dstrain::data
