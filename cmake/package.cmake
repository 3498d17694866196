# package.cmake — the Debian package (issue 21 item 7), built with CPack in a build directory of
# its own configured with -DGW_DEB=ON -DCMAKE_INSTALL_PREFIX=/usr (tools/package-deb.sh does
# it): the binary, the map wall with MapLibre (install.cmake), and what a service needs —
#   /etc/gridwatch/gridwatch.conf    the settings (a conffile), read by `serve --config`
#   /lib/systemd/system/gridwatch.service   `gridwatch serve` under the gridwatch user
#   /usr/share/man/man1/gridwatch.1.gz      written from the --help texts (tools/gen_man.sh)
#   postinst/prerm/postrm (cmake/deb/): the user, /var/lib/gridwatch, an empty database, the unit
# Dependencies come from dpkg-shlibdeps on the binary (package dpkg-dev), plus adduser and
# fonts-noto-cjk (the map labels' glyphs are made from its Noto Sans CJK SC at run time).
# Only with GW_DEB: a plain `cmake --install --prefix P` must not write to /etc.
option(GW_DEB "Build the Debian package's extra files and CPack configuration" OFF)
if(NOT GW_DEB)
  return()
endif()
set(GW_DEB_DIR ${PROJECT_SOURCE_DIR}/cmake/deb)

add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/gridwatch.1.gz
  COMMAND ${PROJECT_SOURCE_DIR}/tools/gen_man.sh $<TARGET_FILE:gridwatch> ${PROJECT_BINARY_DIR}/gridwatch.1
  COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/gridwatch.1
  DEPENDS gridwatch ${PROJECT_SOURCE_DIR}/tools/gen_man.sh
  COMMENT "gridwatch.1 from the --help texts")
add_custom_target(gridwatch_man ALL DEPENDS ${PROJECT_BINARY_DIR}/gridwatch.1.gz)

install(FILES ${PROJECT_BINARY_DIR}/gridwatch.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT runtime)
install(FILES ${GW_DEB_DIR}/gridwatch.conf DESTINATION /etc/gridwatch COMPONENT runtime)
install(FILES ${GW_DEB_DIR}/gridwatch.service DESTINATION /lib/systemd/system COMPONENT runtime)
install(FILES ${GW_DEB_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gridwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "gridwatch developers <gridwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "grid mapping, camera coverage, hotspots and patrol dispatch over HTTP")
# the long description: CPack puts the summary above it and indents each line
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "gridwatch stores a city's management grids, police rooms, cameras, patrol teams and\n"
    "incidents in SpatiaLite (or PostGIS), computes camera coverage, hot spots and the\n"
    "nearest teams, and serves OGC API - Features, vector and heat map tiles and a map\n"
    "wall page.  The gridwatch service runs `gridwatch serve` with\n"
    "/etc/gridwatch/gridwatch.conf.")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, fonts-noto-cjk")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${GW_DEB_DIR}/postinst ${GW_DEB_DIR}/prerm ${GW_DEB_DIR}/postrm ${GW_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
