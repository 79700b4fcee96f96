#pragma once
// Byte counts for people, in binary units with one decimal: "512 B",
// "1.0 KiB", "37.0 MiB", "1.5 GiB". Used where an exact count would not be
// read (a crossover found by bisection, a route table). Pure.

#include <cstdint>
#include <string>

namespace dstrain {

std::string ApproxBinaryBytes(std::int64_t bytes);

}  // namespace dstrain
