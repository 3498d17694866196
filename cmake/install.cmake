# install.cmake — what `cmake --install build --prefix P` lays out, and the test that checks it:
#   P/bin/gridwatch                                  (component "runtime")
#   P/share/gridwatch/web/…                          the map wall page (component "wall")
#   P/share/gridwatch/web/vendor/maplibre-gl/…       MapLibre GL's built files, from npm
#   P/share/gridwatch/sprite/…                       the styles' sprite, built (labels.cmake);
#                                                    its SVG sources (web/sprite/) stay out
# The binary finds the page as ../share/gridwatch/web from its own directory (api/web_http.c).
# Included at the end of CMakeLists.txt; refers to the `gridwatch` target by name only.
include(GNUInstallDirs)

set(GW_WALL_DIR ${CMAKE_INSTALL_DATADIR}/gridwatch/web)
set(GW_MAPLIBRE_DIST ${PROJECT_SOURCE_DIR}/web/node_modules/maplibre-gl)
string(CONCAT GW_MAPLIBRE_HELP
    "MapLibre GL is missing (${GW_MAPLIBRE_DIST}/dist/maplibre-gl.mjs): run `npm ci` in web/ "
    "(.ci/install-deps does it) before installing the map wall, or install only the binary "
    "with `cmake --install build --component runtime` and serve with --no-wall.")

install(TARGETS gridwatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# Said at configure time so nobody is surprised later; checked again at install time, so an
# `npm ci` after configuring is enough (no re-configure), and a missing MapLibre fails the
# install of the page instead of leaving a wall that 404s in the browser.
if(NOT EXISTS ${GW_MAPLIBRE_DIST}/dist/maplibre-gl.mjs)
  message(WARNING "${GW_MAPLIBRE_HELP} `cmake --install` of the map wall will fail until then.")
endif()
install(CODE "
  if(NOT EXISTS \"${GW_MAPLIBRE_DIST}/dist/maplibre-gl.mjs\"
     OR NOT EXISTS \"${GW_MAPLIBRE_DIST}/dist/maplibre-gl.css\")
    message(FATAL_ERROR \"${GW_MAPLIBRE_HELP}\")
  endif()" COMPONENT wall)

# The page: what web_http.c serves (no npm metadata, no dot files, no node_modules).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/ DESTINATION ${GW_WALL_DIR} COMPONENT wall
        PATTERN node_modules EXCLUDE
        PATTERN sprite EXCLUDE
        PATTERN "package*.json" EXCLUDE
        PATTERN ".*" EXCLUDE)
# MapLibre's production build (the module loads its worker module beside it) and its licence;
# the -dev builds, source maps and type declarations are for developing MapLibre, not serving it.
install(DIRECTORY ${GW_MAPLIBRE_DIST}/dist/ DESTINATION ${GW_WALL_DIR}/vendor/maplibre-gl
        COMPONENT wall
        FILES_MATCHING PATTERN "maplibre-gl*.mjs" PATTERN "maplibre-gl.css"
        PATTERN "*-dev.mjs" EXCLUDE)
install(FILES ${GW_MAPLIBRE_DIST}/LICENSE.txt DESTINATION ${GW_WALL_DIR}/vendor/maplibre-gl
        COMPONENT wall OPTIONAL)

if(GW_BUILD_TESTS)
  # Install into a fresh prefix and serve from there; skipped (77) only without web/node_modules.
  add_test(NAME install COMMAND ${PROJECT_SOURCE_DIR}/tests/cli/test_install.sh
           ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${PROJECT_VERSION})
  set_tests_properties(install PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
