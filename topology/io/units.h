#pragma once
// Bandwidths and latencies as people write them, to and from the model's
// units (bytes/s and seconds).
//
// Bandwidth: a number and a unit, space optional: `400 Gb/s`, `400Gbps`,
// `400 Gbit/s`, `50 GB/s`, `50GBps`; prefixes K, M, G, T (powers of 1000;
// a lower-case `b` means bits, `B` bytes). Latency: `500 ns`, `1 us`,
// `1 µs`, `0.5 ms`, `1e-6 s`. A bare number is refused (which unit would
// it be?). Values must be finite; bandwidth > 0, latency >= 0.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace dstrain::topology {

std::optional<double> ParseBandwidth(std::string_view text);  // bytes/s
std::optional<double> ParseLatency(std::string_view text);    // seconds

// `400 Gb/s`, `1.6 Tb/s`, `25 Gb/s` (network style, bits); `0.5 us`.
std::string FormatBandwidth(double bytes_per_second);
std::string FormatLatency(double seconds);

}  // namespace dstrain::topology
