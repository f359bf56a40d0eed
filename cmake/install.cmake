# `cmake --install build --prefix P`:
#   P/bin/dlt                              the command
#   P/lib/libdlt.so*, P/include/dlt/...    the library and its headers
#   P/lib/libdlt_sentencepiece.so          SentencePiece, opened on first use
#   P/lib/cmake/dlt/                       find_package(dlt) -> dlt::dlt
#   P/share/modulefiles/dlt/<version>.lua  an Lmod modulefile (relocatable)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dlt_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS dlt_sentencepiece LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})  # opened by dlopen
install(TARGETS dlt EXPORT dltTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/dlt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(EXPORT dltTargets NAMESPACE dlt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlt)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dltConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/dltConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlt)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dltConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dltConfig.cmake ${PROJECT_BINARY_DIR}/dltConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlt)
configure_file(${PROJECT_SOURCE_DIR}/cmake/dlt.lua.in ${PROJECT_BINARY_DIR}/modulefile/${PROJECT_VERSION}.lua @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/modulefile/${PROJECT_VERSION}.lua
        DESTINATION ${CMAKE_INSTALL_DATADIR}/modulefiles/dlt)
