#include "worker/data/token_source.h"

namespace dstrain::data {

Status TokenSource::ReadIds(std::int64_t begin, std::int64_t count,
                            std::int32_t* out) {
  std::vector<std::int64_t> wide(static_cast<std::size_t>(count));
  DSTRAIN_RETURN_IF_ERROR(Read(begin, count, wide.data()));
  for (std::int64_t i = 0; i < count; ++i) {
    out[i] = static_cast<std::int32_t>(wide[static_cast<std::size_t>(i)]);
  }
  return Status::Ok();
}

}  // namespace dstrain::data
