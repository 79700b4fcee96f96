# dstrain_add_test(NAME name SOURCES a.cc ... LIBS lib ... LABELS unit|integration|slow|gpu|slurm
#                  [TIMEOUT seconds])
# One GoogleTest executable; each TEST becomes its own CTest test carrying
# the label, so `ctest -L unit` and `ctest -LE slow` select (with several
# labels, the executable is one test carrying them all). Every test
# links the shared test support (common/testing: IsOk, StatusIs).
function(dstrain_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} dstrain_testing
                        GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    DSTRAIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    DSTRAIN_BINARY_DIR="${CMAKE_BINARY_DIR}")
  if("gpu" IN_LIST T_LABELS)
    # deploy/gpu/check.sh builds only these (and the worker) on a GPU
    # machine: <build>/gpu_test_targets.txt.
    set_property(GLOBAL APPEND PROPERTY DSTRAIN_GPU_TESTS ${T_NAME})
  endif()
  list(LENGTH T_LABELS label_count)
  if(label_count GREATER 1)
    # gtest_discover_tests flattens a list-valued property (CMake 3.25), so
    # a binary with several labels is one CTest test carrying all of them.
    add_test(NAME ${T_NAME} COMMAND ${T_NAME}
             WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    set_tests_properties(${T_NAME} PROPERTIES
      LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
      SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
  else()
    gtest_discover_tests(${T_NAME}
      DISCOVERY_MODE PRE_TEST
      # Listing a libtorch test binary loads libtorch: on a loaded 2-core
      # machine that exceeds gtest's default of 5 s and ctest aborts.
      DISCOVERY_TIMEOUT 120
      PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  endif()
endfunction()
