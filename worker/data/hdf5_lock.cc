#include "worker/data/hdf5_lock.h"

#include <hdf5.h>

namespace dstrain::data::hdf5 {

std::mutex& Lock() {
  static std::mutex mu;
  return mu;
}

void Quiet() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

namespace {

herr_t Walk(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::string*>(data);
  // Walking upward starts at the innermost call: keep that one.
  if (n == 0 && e->desc != nullptr) *out = e->desc;
  return 0;
}

}  // namespace

std::string LastError() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, Walk, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg;
}

}  // namespace dstrain::data::hdf5
