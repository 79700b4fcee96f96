#include "agent/metrics_line.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>

namespace dstrain::agent {

namespace pbutil = google::protobuf::util;

StatusOr<MetricsLine> ParseMetricsLine(std::string_view line) {
  // Read "type" through the generic Struct first: the typed messages below
  // ignore it as an unknown field.
  google::protobuf::Struct generic;
  auto st = pbutil::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &generic);
  if (!st.ok()) {
    return InvalidArgument("metrics line is not a JSON object: " +
                           std::string(st.message()));
  }
  auto it = generic.fields().find("type");
  if (it == generic.fields().end() || !it->second.has_string_value()) {
    return InvalidArgument("metrics line has no string field \"type\"");
  }
  const std::string& type = it->second.string_value();

  pbutil::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  MetricsLine out;
  google::protobuf::Message* target = nullptr;
  if (type == "step") {
    out.kind = MetricsLine::Kind::kStep;
    target = &out.step;
  } else if (type == "result") {
    out.kind = MetricsLine::Kind::kResult;
    target = &out.result;
  } else {
    return InvalidArgument("metrics line has unknown type \"" + type + "\"");
  }
  st = pbutil::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), target, opts);
  if (!st.ok()) {
    return InvalidArgument("bad " + type +
                           " metrics line: " + std::string(st.message()));
  }
  return out;
}

}  // namespace dstrain::agent
