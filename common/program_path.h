#pragma once
// Where a program named without a slash is found, as a shell finds it:
// the first executable file `name` in the folders of PATH (an empty
// entry is the current folder; no PATH: /usr/bin:/bin). A name with a
// slash is returned as it is. "" when there is none. Thread-safe.

#include <string>

namespace dstrain {

std::string FindProgram(const std::string& name);

}  // namespace dstrain
