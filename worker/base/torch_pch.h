#pragma once
// The precompiled header of the engine's libtorch translation units: parsing
// libtorch costs tens of seconds per file, so it is done once per build
// (target_precompile_headers in worker/CMakeLists.txt, reused by the tests).
// Never add spdlog or Debian's fmt here: libtorch ships its own fmt.

#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
