# Finds every external dependency once, so module CMakeLists only link targets.

find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
# Logging, everywhere (the engine too).
find_package(spdlog REQUIRED)

# --- libtorch, from the PyTorch wheel in the bootstrap's virtual environment.
set(DSTRAIN_PYTHON "$ENV{HOME}/.cache/dstrain/venv/bin/python" CACHE FILEPATH
    "Python interpreter whose torch package provides libtorch")
if(NOT Torch_DIR)
  execute_process(
    COMMAND ${DSTRAIN_PYTHON} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE DSTRAIN_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE DSTRAIN_TORCH_RC)
  if(NOT DSTRAIN_TORCH_RC EQUAL 0)
    message(FATAL_ERROR "cannot import torch with ${DSTRAIN_PYTHON}; run deploy/bootstrap.sh "
                        "or pass -DDSTRAIN_PYTHON=/path/to/python with torch installed")
  endif()
  list(APPEND CMAKE_PREFIX_PATH ${DSTRAIN_TORCH_PREFIX})
endif()
# libtorch's CUDA build configures against the CUDA toolkit; no GPU is needed.
# Naming the architecture (Hopper, the GPU machines' H200) skips TorchConfig's
# probe for installed GPUs, which needs a GPU and fails under C++20 settings.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()
find_package(Torch REQUIRED)
# TorchConfig appends its flags (the C++11 ABI define) to CMAKE_CXX_FLAGS.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")

# c10d::ProcessGroupGloo's header includes Gloo's headers, which the wheel does
# not ship; Debian's libgloo-dev provides them (libtorch carries the code).
find_path(GLOO_INCLUDE_DIR gloo/context.h REQUIRED)

# --- CUDA toolkit and NCCL: compiled and linked in every build that has them.
find_package(CUDAToolkit)
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  set(DSTRAIN_HAVE_NCCL ON)
  add_library(dstrain_nccl INTERFACE)
  target_include_directories(dstrain_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(dstrain_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
  message(STATUS "dstrain: NCCL ${NCCL_LIBRARY}, CUDA ${CUDAToolkit_VERSION}")
else()
  set(DSTRAIN_HAVE_NCCL OFF)
  message(STATUS "dstrain: NCCL not found; the nccl backend is left out of this build")
endif()

find_package(MPI COMPONENTS CXX)

if(NOT DSTRAIN_ENGINE_ONLY)
  find_package(Protobuf REQUIRED)
  find_package(gRPC CONFIG REQUIRED)
  find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
  find_package(CLI11 CONFIG QUIET)
  find_package(SQLite3 REQUIRED)
  # SHA-256 of job credentials (common/rpc/auth.h); gRPC links it anyway.
  find_package(OpenSSL REQUIRED COMPONENTS Crypto)
  # The coordinator's HTTP port (/metrics): Debian's cpp-httplib, compiled
  # as a library; its .pc file carries the HTTPS/zlib/brotli switches.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

if(DSTRAIN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(DSTRAIN_BUILD_BENCH AND NOT DSTRAIN_ENGINE_ONLY)
  find_package(benchmark REQUIRED)
endif()
