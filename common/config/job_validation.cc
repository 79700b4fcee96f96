#include "common/config/job_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/config/job_checks.h"
#include "common/config/job_origins.h"
#include "common/config/job_schema.h"

namespace dstrain::config {
namespace {

using schema::Field;
using schema::FieldKind;
using schema::FieldValue;

std::string Text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

Status OutOfRange(const Field& f, const std::string& text) {
  return InvalidArgument("`" + f.path + "` = " + text +
                         " is out of range: must be " + schema::RangeText(f));
}

// The schema's per-field rule for one value: its range, or its choices.
Status CheckField(const Field& f, const FieldValue& v) {
  switch (f.kind) {
    case FieldKind::kInt:
      if (!schema::InRange(f, static_cast<double>(v.i))) {
        return OutOfRange(f, std::to_string(v.i));
      }
      return Status::Ok();
    case FieldKind::kDouble:
      if (!std::isfinite(v.d) || !schema::InRange(f, v.d)) {
        return OutOfRange(f, Text(v.d));
      }
      return Status::Ok();
    case FieldKind::kPair:
      for (double x : v.pair) {
        if (!std::isfinite(x) || !schema::InRange(f, x)) {
          return OutOfRange(
              f, "[" + Text(v.pair[0]) + ", " + Text(v.pair[1]) + "]");
        }
      }
      return Status::Ok();
    case FieldKind::kEnum: {
      // Enum members carry their index, string members their spelling.
      const bool known =
          v.s.empty()
              ? v.i >= 0 && v.i < static_cast<std::int64_t>(f.choices.size())
              : std::find(f.choices.begin(), f.choices.end(), v.s) !=
                    f.choices.end();
      if (!known) {
        return InvalidArgument(
            "`" + f.path + "` = " + (v.s.empty() ? std::to_string(v.i) : v.s) +
            ": expected " + schema::KindText(f));
      }
      return Status::Ok();
    }
    case FieldKind::kString:
    case FieldKind::kPath:
      if (f.required && v.s.empty()) {
        return InvalidArgument("missing required key `" + f.path + "`");
      }
      return Status::Ok();
    case FieldKind::kBool:
    case FieldKind::kUint64:
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

Status ValidateJob(const JobConfig& job) {
  for (const Field& f : schema::Fields()) {
    // Generated data reads no file.
    if (f.path == "data.path" && job.data.type == "synthetic") continue;
    DSTRAIN_RETURN_IF_ERROR(CheckField(f, f.get(job)));
  }
  const internal::Origins none;
  DSTRAIN_RETURN_IF_ERROR(internal::CheckCombinations(job, none));
  return internal::RefuseUnbuiltFeatures(job, none);
}

}  // namespace dstrain::config
