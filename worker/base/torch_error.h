#pragma once
// Turns an exception from libtorch (c10::Error and friends carry a C++
// backtrace in what()) into the one-line reason a Status carries.

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace dstrain::base {

inline std::string OneLine(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string msg = c10 != nullptr ? c10->what_without_backtrace() : e.what();
  const std::size_t nl = msg.find('\n');
  if (nl != std::string::npos) msg.resize(nl);
  return msg;
}

}  // namespace dstrain::base
