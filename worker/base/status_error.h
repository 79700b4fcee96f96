#pragma once
// A Status carried through code that can only throw: autograd hooks (a
// collective failing inside backward) and the ZeRO engine's step. The
// training loop catches it and returns the Status as it was, code and all.

#include <stdexcept>

#include "common/status.h"

namespace dstrain::base {

class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status)
      : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Throws StatusError unless `status` is OK.
inline void ThrowIfError(Status status) {
  if (!status.ok()) throw StatusError(std::move(status));
}

}  // namespace dstrain::base
