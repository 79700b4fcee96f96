#pragma once
// An ncclUniqueId as text, so rank 0 can publish it through the rendezvous
// KeyValueStore (whose values are strings) and the other ranks read it
// back: 128 bytes as 256 lowercase hex digits. Pure.

#include <nccl.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::comm::nccl {

std::string EncodeUniqueId(const ncclUniqueId& id);

// INVALID_ARGUMENT unless `hex` is exactly 2 × NCCL_UNIQUE_ID_BYTES hex
// digits; `where` (the store key) names the source in the message.
StatusOr<ncclUniqueId> DecodeUniqueId(std::string_view hex,
                                      const std::string& where);

}  // namespace dstrain::comm::nccl
