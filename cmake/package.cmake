# `cpack -G DEB` (scripts/package.sh): dlt_<version>_amd64.deb with what
# `cmake --install` puts under /usr, its runtime dependencies found by
# dpkg-shlibdeps from the binaries' shared libraries.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dlt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "dlt")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Deep-learning training toolkit: tensors, autograd and YAML-driven training")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "dlt maintainers <maintainers@dlt.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # dlt_<version>_<arch>.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
