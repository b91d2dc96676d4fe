# minidl_add_library(NAME DEPS ... [PRIVATE_DEPS ...])
# One shared library per source folder, built from every .cpp in it and in its
# subfolders (layers/ keeps its rooms in one library; new files are picked up on
# the next build). Headers sit beside sources and are included
# as "folder/file.h" from the repository root (build tree) or include/minidl (installed).
function(minidl_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
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
  gtest_discover_tests(${_exe} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600 LABELS ${dir})
endfunction()
