# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR STREQUAL "DEB")
  # A Debian package lives in /usr whatever prefix the build was configured
  # with; the programs find their data relative to themselves (bin/../share).
  set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
endif()
if(CPACK_GENERATOR STREQUAL "NSIS")
  # Says what it is in a Downloads folder.
  set(CPACK_PACKAGE_FILE_NAME "latchkey-${CPACK_PACKAGE_VERSION}-win64-setup")
endif()
