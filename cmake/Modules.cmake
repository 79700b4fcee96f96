# dstrain_module(NAME dstrain_x [DIR folder] SOURCES a.cc ...
#                DEPS dstrain_y ... [PRIVATE_DEPS dstrain_z ...]
#                [LIBS external ...] [PRIVATE_LIBS ...])
#
# One module = one folder (DIR, default the current one) = one static
# library. DEPS and PRIVATE_DEPS name the modules it may include and link
# (only those, and what they depend on in turn); PRIVATE_DEPS are linked
# PRIVATE, so their include folders do not reach the module's users. LIBS /
# PRIVATE_LIBS are external libraries (yaml-cpp, gRPC, libtorch).
# A module with no SOURCES is a header-only INTERFACE library.
#
# Every module and its DEPS are recorded; at the end of configuration
# dstrain_write_module_graph() writes them to <build>/module_graph.json,
# and tools/check_layers.py fails the build (target dstrain_layer_check,
# which every module depends on) when a file includes a header of a module
# that is not below it, or when the modules form a cycle. So an upward
# include cannot build.
#
# Subfolders belong to the module of the nearest folder that is one
# (worker/comm/mpi is part of dstrain_comm unless it is a module itself).

set_property(GLOBAL PROPERTY DSTRAIN_MODULES "")
set_property(GLOBAL PROPERTY DSTRAIN_ALTERNATIVE_SOURCES "")

# Sources (relative to the current folder) that this build leaves out on
# purpose because another builds them instead (the MPI backend in a build
# without MPI, the NCCL backend without NCCL, the libFuzzer targets'
# project of their own): not dead code.
function(dstrain_alternative_sources)
  foreach(s ${ARGN})
    file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}/${s}")
    set_property(GLOBAL APPEND PROPERTY DSTRAIN_ALTERNATIVE_SOURCES "${rel}")
  endforeach()
endfunction()

# The layer check runs before any module compiles; it reads the graph that
# configuration wrote and every source file (globbed, so a new file reruns
# it).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
file(GLOB_RECURSE DSTRAIN_ALL_CODE CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/*.h ${PROJECT_SOURCE_DIR}/*.cc)
list(FILTER DSTRAIN_ALL_CODE EXCLUDE REGEX "^${PROJECT_SOURCE_DIR}/build")
# An engine-only build configures some modules only: the rest of the tree
# is not its to check.
set(DSTRAIN_LAYER_FLAGS "")
if(DSTRAIN_ENGINE_ONLY)
  set(DSTRAIN_LAYER_FLAGS --partial)
endif()
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/layer_check.stamp
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py
          --root ${PROJECT_SOURCE_DIR} --graph ${CMAKE_BINARY_DIR}/module_graph.json
          ${DSTRAIN_LAYER_FLAGS}
  COMMAND ${CMAKE_COMMAND} -E touch ${CMAKE_BINARY_DIR}/layer_check.stamp
  DEPENDS ${PROJECT_SOURCE_DIR}/tools/check_layers.py
          ${CMAKE_BINARY_DIR}/module_graph.json ${DSTRAIN_ALL_CODE}
  COMMENT "Checking module layers (tools/check_layers.py)"
  VERBATIM)
add_custom_target(dstrain_layer_check DEPENDS ${CMAKE_BINARY_DIR}/layer_check.stamp)

function(dstrain_module)
  cmake_parse_arguments(M "" "NAME;DIR" "SOURCES;DEPS;PRIVATE_DEPS;LIBS;PRIVATE_LIBS" ${ARGN})
  if(NOT M_DIR)
    file(RELATIVE_PATH M_DIR "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  if(M_SOURCES)
    add_library(${M_NAME} STATIC ${M_SOURCES})
    target_include_directories(${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${M_NAME} PUBLIC ${M_DEPS} ${M_LIBS})
    if(M_PRIVATE_DEPS OR M_PRIVATE_LIBS)
      target_link_libraries(${M_NAME} PRIVATE ${M_PRIVATE_DEPS} ${M_PRIVATE_LIBS})
    endif()
  else()
    add_library(${M_NAME} INTERFACE)
    target_include_directories(${M_NAME} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${M_NAME} INTERFACE ${M_DEPS} ${M_PRIVATE_DEPS}
                          ${M_LIBS} ${M_PRIVATE_LIBS})
  endif()
  add_dependencies(${M_NAME} dstrain_layer_check)
  set_property(GLOBAL APPEND PROPERTY DSTRAIN_MODULES ${M_NAME})
  set_property(GLOBAL PROPERTY DSTRAIN_MODULE_DIR_${M_NAME} "${M_DIR}")
  set_property(GLOBAL PROPERTY DSTRAIN_MODULE_DEPS_${M_NAME}
               "${M_DEPS};${M_PRIVATE_DEPS}")
endfunction()

# Appends to `out` the sources of every target defined in `dir` and below,
# relative to the project.
function(dstrain_collect_sources dir out)
  set(acc ${${out}})
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(srcs ${t} SOURCES)
    get_target_property(tdir ${t} SOURCE_DIR)
    foreach(s ${srcs})
      if(NOT IS_ABSOLUTE "${s}")
        set(s "${tdir}/${s}")
      endif()
      file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${s}")
      list(APPEND acc "${rel}")
    endforeach()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(d ${subdirs})
    dstrain_collect_sources(${d} acc)
  endforeach()
  set(${out} ${acc} PARENT_SCOPE)
endfunction()

# Writes <build>/module_graph.json: {"modules": {name: {"dir", "deps"}},
# "built": [every source file some target compiles, or another
# configuration does (dstrain_alternative_sources)]}. Call once, at the
# end of the top-level CMakeLists.txt.
function(dstrain_write_module_graph)
  get_property(modules GLOBAL PROPERTY DSTRAIN_MODULES)
  set(json "{\n  \"modules\": {\n")
  set(first TRUE)
  foreach(m ${modules})
    get_property(dir GLOBAL PROPERTY DSTRAIN_MODULE_DIR_${m})
    get_property(deps GLOBAL PROPERTY DSTRAIN_MODULE_DEPS_${m})
    set(dep_json "")
    foreach(d ${deps})
      if(d MATCHES "^dstrain_")
        if(dep_json)
          string(APPEND dep_json ", ")
        endif()
        string(APPEND dep_json "\"${d}\"")
      endif()
    endforeach()
    if(NOT first)
      string(APPEND json ",\n")
    endif()
    set(first FALSE)
    string(APPEND json "    \"${m}\": {\"dir\": \"${dir}\", \"deps\": [${dep_json}]}")
  endforeach()
  string(APPEND json "\n  },\n  \"built\": [\n")
  get_property(built GLOBAL PROPERTY DSTRAIN_ALTERNATIVE_SOURCES)
  dstrain_collect_sources(${PROJECT_SOURCE_DIR} built)
  list(FILTER built EXCLUDE REGEX "^\\.\\.|^build")
  list(REMOVE_DUPLICATES built)
  list(SORT built)
  set(first TRUE)
  foreach(s ${built})
    if(NOT first)
      string(APPEND json ",\n")
    endif()
    set(first FALSE)
    string(APPEND json "    \"${s}\"")
  endforeach()
  string(APPEND json "\n  ]\n}\n")
  file(WRITE ${CMAKE_BINARY_DIR}/module_graph.json.tmp "${json}")
  configure_file(${CMAKE_BINARY_DIR}/module_graph.json.tmp
                 ${CMAKE_BINARY_DIR}/module_graph.json COPYONLY)
endfunction()
