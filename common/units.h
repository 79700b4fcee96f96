#pragma once
// Sizes, bandwidths and times as people read and write them: the one place
// dstrain formats and parses them, so a quantity reads the same in every
// table, log line and error message. Pure functions; thread-safe.
//
// One convention for what dstrain prints: sizes in bytes with binary
// prefixes, written out (KiB = 1024 B, as nccl-tests' -b/-e and memory
// sizes); bandwidths in bytes per second with decimal prefixes, GB/s =
// 1e9 B/s (a collective's algbw/busbw as nccl-tests, and links too, which
// are read in bits as vendors sell them: "400 Gb/s" prints "50 GB/s").
// Tables name the unit of every column of bare numbers; JSON keys end in
// their unit (`_bytes`, `_s`, `_us`, `_gb_per_s`).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain {

inline constexpr std::int64_t kKiB = std::int64_t{1} << 10;
inline constexpr std::int64_t kMiB = std::int64_t{1} << 20;
inline constexpr std::int64_t kGiB = std::int64_t{1} << 30;
inline constexpr std::int64_t kTiB = std::int64_t{1} << 40;

// ---- byte sizes -----------------------------------------------------------

// Bytes with an optional binary suffix, as command-line flags take them:
// "8" → 8, "4K" → 4096, "256M" → 268435456, "1G"; "KiB", "KB" and a
// trailing "B" read the same, in any case. Positive and at most 1 TiB (more
// is a typo). Errors start with `flag`.
StatusOr<std::int64_t> ParseByteSize(std::string_view text,
                                     std::string_view flag);

// The exact size in the largest binary unit that divides it, as tables
// and messages print sizes: 8 → "8 B", 4096 → "4 KiB", 268435456 →
// "256 MiB", 1000 → "1000 B" (ParseByteSize reads it without the space).
std::string FormatByteSize(std::int64_t bytes);

// One decimal in binary units: "512 B", "1.0 KiB", "37.0 MiB", "1.5 GiB".
// For sizes whose exact count would not be read (a crossover found by
// bisection, a route table).
std::string ApproxBinaryBytes(std::int64_t bytes);

// ---- bandwidths, latencies, times, rates ---------------------------------

// Bandwidth: a number and a unit, space optional: `400 Gb/s`, `400Gbps`,
// `400 Gbit/s`, `50 GB/s`, `50GBps`; prefixes K, M, G, T (powers of 1000;
// a lower-case `b` means bits, `B` bytes). Finite and > 0; a bare number is
// refused (which unit would it be?). In bytes/s.
std::optional<double> ParseBandwidth(std::string_view text);

// Latency: `500 ns`, `1 us`, `1 µs`, `0.5 ms`, `1e-6 s`. Finite and >= 0;
// a bare number is refused. In seconds.
std::optional<double> ParseLatency(std::string_view text);

// Bytes per second, four significant digits, decimal prefixes: `50 GB/s`,
// `12.5 GB/s`, `1.6 TB/s`, `375 MB/s`.
std::string FormatBandwidth(double bytes_per_second);

// Four significant digits in the largest of ns, us, ms and s that keeps the
// number at 1 or more: `500 ns`, `1 us`, `2.5 ms`, `1.5 s`; 0 is `0 s`.
std::string FormatLatency(double seconds);

// A time for a table column, fixed decimals so a column lines up:
// "1.234 s", "12.345 ms", "3.50 us"; "-" when not finite.
std::string FormatSeconds(double seconds);

// A count per second, short: "950", "48.2k", "1.25M"; "-" when not finite.
std::string FormatRate(double per_second);

}  // namespace dstrain
