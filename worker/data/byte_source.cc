#include "worker/data/byte_source.h"

namespace dstrain::data {

Status ByteSource::Read(std::int64_t begin, std::int64_t count,
                        std::int64_t* out) {
  const auto bytes = text_->bytes();
  if (begin < 0 || count < 0 || begin + count > size()) {
    return InvalidArgument("read of " + std::to_string(count) + " tokens at " +
                           std::to_string(begin) + " past the end of " +
                           Locate(size()));
  }
  const std::uint8_t* src = bytes.data() + begin;
  for (std::int64_t i = 0; i < count; ++i) out[i] = src[i];
  return Status::Ok();
}

std::string ByteSource::Locate(std::int64_t position) const {
  // A folder is read as one buffer; name the first file for a single one.
  const auto& files = text_->files();
  return (files.size() == 1 ? files.front() : std::string("the text corpus")) +
         " at byte " + std::to_string(position);
}

}  // namespace dstrain::data
