#pragma once
// Prometheus' text exposition format (version 0.0.4), written from metric
// families: each family's `# HELP` and `# TYPE` lines, then its samples,
// one per line, `name{label="value",...} number`. Label values escape
// backslash, double quote and newline; HELP text escapes backslash and
// newline; numbers are written so they read back exactly ("NaN", "+Inf",
// "-Inf", else the shortest decimal that round-trips). Pure.

#include <string>
#include <utility>
#include <vector>

namespace dstrain::coordinator::http {

enum class MetricType { kGauge, kCounter, kSummary };

struct Sample {
  // Appended to the family's name: "" for gauges and counters' own value,
  // "_sum" / "_count" for a summary's totals.
  std::string suffix;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;

  // Appends a sample; returns *this for chaining.
  MetricFamily& Add(std::vector<std::pair<std::string, std::string>> labels,
                    double value, std::string suffix = "");
};

// The whole exposition, families in the order given. A family with no
// samples still gets its HELP and TYPE lines (Prometheus reads that as a
// metric with no series).
std::string WriteExposition(const std::vector<MetricFamily>& families);

std::string EscapeLabelValue(const std::string& value);
std::string FormatSampleValue(double value);

// The content type Prometheus expects for this format.
inline constexpr char kExpositionContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace dstrain::coordinator::http
