#include "common/config/job_config.h"

namespace dstrain::config {

const char* DeviceName(Device d) {
  switch (d) {
    case Device::kCpu:
      return "cpu";
    case Device::kCuda:
      return "cuda";
  }
  return "?";
}

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kAuto:
      return "auto";
    case Backend::kNccl:
      return "nccl";
    case Backend::kGloo:
      return "gloo";
    case Backend::kMpi:
      return "mpi";
  }
  return "?";
}

const char* AmpDtypeName(AmpDtype a) {
  switch (a) {
    case AmpDtype::kOff:
      return "off";
    case AmpDtype::kFp16:
      return "fp16";
    case AmpDtype::kBf16:
      return "bf16";
  }
  return "?";
}

}  // namespace dstrain::config
