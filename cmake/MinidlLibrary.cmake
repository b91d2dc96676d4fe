# Unity builds: each target compiles its sources in batches, one translation unit
# per batch, so the shared headers (fmt, nlohmann/json, GoogleTest, the minidl
# headers) are parsed and their inline functions compiled once per batch rather
# than once per file. Sources that set their own compile definitions are compiled
# alone (CMake leaves them out of the batches). OFF compiles every file on its
# own, which also checks that each file includes what it uses.
option(MINIDL_UNITY_BUILD "Compile each target's sources in batches (CMake unity build)" ON)
set(MINIDL_UNITY_BATCH_SIZE 8 CACHE STRING "Source files per unity batch")

# minidl_unity(TARGET): the unity-build properties above, for one target.
function(minidl_unity target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${MINIDL_UNITY_BUILD}
                                             UNITY_BUILD_BATCH_SIZE ${MINIDL_UNITY_BATCH_SIZE})
  # GCC takes every file a batch includes for a header and so warns about each
  # class (a TEST_F fixture's test) whose base sits in that file's anonymous namespace.
  if(MINIDL_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()

# minidl_compile_alone(FILE ...): files that define file-local helpers (anonymous
# namespace) under the same names as other files of their folder, compiled on their
# own rather than in a unity batch. Call it in the folder whose target holds them.
function(minidl_compile_alone)
  set_source_files_properties(${ARGN} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

# minidl_add_library(NAME DEPS ... [PRIVATE_DEPS ...] [NO_UNITY])
# One shared library per source folder, built from every .cpp in it and in its
# subfolders (layers/ keeps its rooms in one library; new files are picked up on
# the next build). Headers sit beside sources and are included
# as "folder/file.h" from the repository root (build tree) or include/minidl (installed).
# NO_UNITY compiles each file alone: for folders of kernels whose files include
# little, where batching saves almost nothing and costs parallelism.
function(minidl_add_library name)
  cmake_parse_arguments(ARG "NO_UNITY" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE _sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT _sources)  # a folder whose code has not arrived yet
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<INSTALL_INTERFACE:include/minidl>)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    set_property(GLOBAL APPEND PROPERTY MINIDL_LIBRARIES ${name})
    return()
  endif()
  # Shared, not static: layers register themselves with a static registrar
  # beside their definition (layers/base/registry.h); a static archive would let the
  # linker drop those objects and the Keras loader would not find the classes.
  add_library(${name} SHARED ${_sources})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:include/minidl>)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(NOT ARG_NO_UNITY)
    minidl_unity(${name})
  endif()
  # Every symbol a library uses must come from itself or the libraries it names:
  # a missing link dependency fails here, not in whichever program links it last.
  # clang's sanitizer runtimes are linked into programs only, so the shared
  # libraries of those builds leave the __asan_/__ubsan_ symbols to the program.
  if(NOT (CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND (MINIDL_FUZZ OR MINIDL_SANITIZE)))
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  set_property(GLOBAL APPEND PROPERTY MINIDL_LIBRARIES ${name})
endfunction()

# minidl_add_test_dir(DIR): one GoogleTest executable per folder under tests/,
# every TEST registered with ctest. Tests find ../shared through the
# MINIDL_SHARED_DIR compile definition and skip when it is absent.
function(minidl_add_test_dir dir)
  file(GLOB _sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.cpp)
  if(NOT _sources)
    return()
  endif()
  set(_exe test_${dir})
  add_executable(${_exe} ${_sources})
  target_link_libraries(${_exe} PRIVATE minidl::minidl minidl_testing GTest::gtest_main GTest::gmock)
  minidl_unity(${_exe})
  gtest_discover_tests(${_exe} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600 LABELS ${dir})
endfunction()
