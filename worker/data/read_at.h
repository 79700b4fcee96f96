#pragma once
// One positioned read of a whole range (pread until done), for the file
// sources' readers: safe on several threads at once, and an I/O error or
// a file cut short since it was opened is a Status naming the file and the
// byte offset, never a signal (as a read through a mapping would be).

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace dstrain::data {

// `bytes` bytes of `fd` at `offset` into `out`; `file` names it in errors.
Status ReadAt(int fd, std::int64_t offset, std::size_t bytes, void* out,
              const std::string& file);

}  // namespace dstrain::data
