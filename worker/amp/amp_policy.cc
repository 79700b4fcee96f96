#include "worker/amp/amp_policy.h"

namespace dstrain::amp {

StatusOr<AmpPolicy> MakeAmpPolicy(config::AmpDtype dtype,
                                  c10::DeviceType device) {
  AmpPolicy p;
  p.device = device;
  switch (dtype) {
    case config::AmpDtype::kOff:
      return p;
    case config::AmpDtype::kBf16:
      p.compute_dtype = at::kBFloat16;
      break;
    case config::AmpDtype::kFp16:
      p.compute_dtype = at::kHalf;
      p.loss_scaling = true;
      break;
  }
  p.autocast = true;
  const Status ok = CheckAutocast(device, p.compute_dtype);
  if (!ok.ok()) {
    return Status(ok.code(), std::string("amp.dtype ") +
                                 config::AmpDtypeName(dtype) + ": " +
                                 ok.message());
  }
  return p;
}

StatusOr<LossScaler> MakeLossScaler(const AmpPolicy& policy,
                                    c10::Device device) {
  if (!policy.loss_scaling) return LossScaler();
  return LossScaler::Create(LossScalerOptions{}, device);
}

}  // namespace dstrain::amp
