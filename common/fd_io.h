#pragma once
// Whole reads and writes on a file descriptor, retried on EINTR and short
// transfers: what every "read the file" and "write the file" needs below
// the Status layer. Each returns 0, or the errno of the failed call.

#include <cstddef>
#include <string>
#include <string_view>

namespace dstrain {

// Writes all of `data`.
int WriteAll(int fd, std::string_view data);

// Appends to `*out` what `fd` holds until end of file, but at most
// `max_bytes` (a caller that must refuse larger inputs asks for one byte
// more than it accepts).
int ReadUpTo(int fd, std::size_t max_bytes, std::string* out);

}  // namespace dstrain
