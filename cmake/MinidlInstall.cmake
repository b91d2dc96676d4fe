# install() rules and an exported package: an outside project does
#   find_package(minidl CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE minidl::minidl)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The exported set holds minidl's own libraries only. OpenBLAS, HDF5, libzip and zlib are
# PRIVATE dependencies of the shared libraries (no public header includes them), so the
# export never names them and minidlConfig.cmake does not look for them.
get_property(_minidl_libs GLOBAL PROPERTY MINIDL_LIBRARIES)
install(TARGETS ${_minidl_libs} minidl
        EXPORT minidlTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir core ops autograd layers train applications io)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/minidl/${dir}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/minidl/minidl.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/minidl)
install(EXPORT minidlTargets NAMESPACE minidl:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minidl)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/minidlConfig.cmake.in
  ${PROJECT_BINARY_DIR}/minidlConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minidl)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/minidlConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/minidlConfig.cmake ${PROJECT_BINARY_DIR}/minidlConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minidl)
