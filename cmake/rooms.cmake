# rooms.cmake — one static library per room, and headers visible only down the dependency order.
#
# A room's public headers stay in include/gridwatch/ (geo/, tiles/) or in the room's own folder
# (api/).  Each geo/tiles room gets a private view of include/gridwatch/ holding only its own
# headers (symbolic links under build/rooms/<room>/gridwatch/); a library sees its own view and,
# through target_link_libraries, the views of the rooms it depends on — nothing above it.  So an
# include against the direction is "No such file or directory" at compile time, not a review
# comment.  Library headers that no C room may use outside its room (sqlite3.h outside the store,
# microhttpd.h outside api/) cannot be hidden this way; tools/check_layers.sh checks those, and
# the 'layering' tests show both mechanisms refusing a wrong include.

set(GW_ROOM_VIEWS ${CMAKE_BINARY_DIR}/rooms)

# gw_room(NAME SOURCES … HEADERS … DEPS … LIBS …)
#   NAME     library name without the gw prefix (gwNAME)
#   SOURCES  the room's .c files
#   HEADERS  its public headers, by file name in include/gridwatch/
#   DEPS     rooms it may use (names without prefix); their headers become visible
#   LIBS     outside libraries it links
function(gw_room name)
  cmake_parse_arguments(R "" "" "SOURCES;HEADERS;DEPS;LIBS;INCLUDE" ${ARGN})
  set(view ${GW_ROOM_VIEWS}/${name})
  file(MAKE_DIRECTORY ${view}/gridwatch)
  foreach(h IN LISTS R_HEADERS)
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/include/gridwatch/${h} ${view}/gridwatch/${h} SYMBOLIC)
  endforeach()
  add_library(gw${name} STATIC ${R_SOURCES})
  target_include_directories(gw${name} PUBLIC ${view} ${R_INCLUDE})
  set(deps "")
  foreach(d IN LISTS R_DEPS)
    list(APPEND deps gw${d})
  endforeach()
  target_link_libraries(gw${name} PUBLIC ${deps} ${R_LIBS})
  set_property(GLOBAL APPEND PROPERTY GW_ROOMS ${name})
  set_property(GLOBAL PROPERTY GW_ROOM_${name}_HEADERS ${R_HEADERS})
endfunction()

# The store's headers: store.h and one store_<topic>.h per topic of its interface.
file(GLOB GW_STORE_HEADERS RELATIVE ${CMAKE_SOURCE_DIR}/include/gridwatch CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/include/gridwatch/store*.h)
macro(gw_glob var)
  file(GLOB ${var} CONFIGURE_DEPENDS ${ARGN})
endmacro()

# ---- geo/: the engine, from the bottom up ----
gw_glob(S geo/core/*.c)
gw_room(core SOURCES ${S} HEADERS common.h layer.h geojson.h csv.h cql2.h fmtargs.h
        LIBS PkgConfig::GEOS PkgConfig::PROJ PkgConfig::JANSSON Threads::Threads m)
gw_glob(S geo/crs/*.c)
gw_room(crs SOURCES ${S} HEADERS crs.h DEPS core LIBS PkgConfig::PROJ)
gw_glob(S geo/store/*.c)
gw_room(store SOURCES ${S} ${GW_MIGRATIONS_C} ${GW_PG_MIGRATIONS_C} HEADERS ${GW_STORE_HEADERS}
        mbtiles.h DEPS core LIBS PkgConfig::SPATIALITE PkgConfig::SQLITE3 PkgConfig::LIBPQ)
gw_glob(S geo/road/*.c)
gw_room(road SOURCES ${S} HEADERS road.h DEPS store crs)
gw_glob(S geo/io/*.c)
gw_room(io SOURCES ${S} HEADERS io.h DEPS road store crs LIBS PkgConfig::GDAL)
gw_glob(S geo/model/*.c)
gw_room(model SOURCES ${S} HEADERS model.h DEPS store crs)
gw_glob(S geo/edit/*.c)
gw_room(edit SOURCES ${S} HEADERS edit.h DEPS store crs LIBS PkgConfig::JANSSON)
gw_glob(S geo/stats/*.c)
gw_room(stats SOURCES ${S} HEADERS hotspot.h kde.h lisa.h emerging.h clusters.h DEPS model
        LIBS PkgConfig::GDAL)
gw_glob(S geo/coverage/*.c)
gw_room(coverage SOURCES ${S} HEADERS coverage.h DEPS model store crs)
gw_glob(S geo/reach/*.c)
gw_room(reach SOURCES ${S} HEADERS reach.h DEPS road model store crs)
gw_glob(S geo/dispatch/*.c)
gw_room(dispatch SOURCES ${S} HEADERS dispatch.h DEPS road coverage model store crs)
gw_glob(S geo/flow/*.c)
gw_room(flow SOURCES ${S} HEADERS flow.h flow_stats.h DEPS store core)
gw_glob(S geo/juris/*.c)
gw_room(juris SOURCES ${S} HEADERS juris.h DEPS model edit store crs)
gw_glob(S geo/plan/*.c)
gw_room(plan SOURCES ${S} HEADERS plan.h DEPS reach road io coverage model store crs
        LIBS PkgConfig::GDAL PkgConfig::JANSSON)
# The synthetic city generator: used by the CLI, the tests and the benchmarks.
gw_room(city SOURCES data/city.c data/city_make.c data/city_truth.c data/city_village.c data/city_roads.c HEADERS city.h DEPS io store crs
        LIBS PkgConfig::GDAL PkgConfig::JANSSON)
# Everything of the engine, for the tests and benchmarks that use several rooms.
add_library(gwgeo INTERFACE)
target_link_libraries(gwgeo INTERFACE gwcore gwcrs gwstore gwio gwmodel gwedit gwstats gwcoverage
                      gwroad gwreach gwdispatch gwplan gwflow gwjuris gwcity)

# ---- tiles/: tile math, the MVT encoder, tile layers, heat map rasters, the tile cache ----
gw_glob(S tiles/*.c)
gw_room(tiles SOURCES ${S} HEADERS tile.h mvt.h tilecache.h tilelayers.h heatmap.h tilestats.h
        glyphs.h DEPS stats coverage model
        LIBS PkgConfig::ZLIB PkgConfig::PNG PkgConfig::JANSSON PkgConfig::FREETYPE)

# ---- the proof (tests/layering/run.sh): probes compiled as members of a room ----
add_library(probe_core_up OBJECT EXCLUDE_FROM_ALL tests/layering/core_includes_store.c)
target_link_libraries(probe_core_up PRIVATE gwcore)
add_library(probe_road_up OBJECT EXCLUDE_FROM_ALL tests/layering/road_includes_dispatch.c)
target_link_libraries(probe_road_up PRIVATE gwroad)
add_library(probe_store_down OBJECT EXCLUDE_FROM_ALL tests/layering/store_includes_core.c)
target_link_libraries(probe_store_down PRIVATE gwstore)
add_library(probe_tiles_up OBJECT EXCLUDE_FROM_ALL tests/layering/tiles_includes_api.c)
target_link_libraries(probe_tiles_up PRIVATE gwtiles)
