# fuzz.cmake — the libFuzzer targets (tests/fuzz/fuzz_<name>.c → fuzz_<name>), built when
# -DGW_FUZZ=ON; `cmake --build build-fuzz --target fuzz` builds them all.  tests/fuzz/run_all.sh
# builds and runs them over their seed corpora (tests/fuzz/corpus/<name>/).
set(GW_FUZZ_TARGETS time crs tile query last_event_id geojson_edit plan_edit wkb mvt csv_import dbf_import csv_table tilestats serve_config road_tags glyph_path cql2 negotiate accept_language)
add_custom_target(fuzz)
function(gw_fuzz_target name)
  cmake_parse_arguments(F "" "" "LIBS;SOURCES" ${ARGN})
  add_executable(fuzz_${name} EXCLUDE_FROM_ALL tests/fuzz/fuzz_${name}.c tests/fuzz/fuzz_util.c
                 ${F_SOURCES})
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz)
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz fuzz_${name})
endfunction()

gw_fuzz_target(time LIBS gwcore)
gw_fuzz_target(crs LIBS gwcrs)
gw_fuzz_target(tile LIBS gwtiles)
gw_fuzz_target(query LIBS gwroutes)
gw_fuzz_target(last_event_id LIBS gwroutes)
gw_fuzz_target(geojson_edit LIBS gwedit gwcity)
gw_fuzz_target(plan_edit LIBS gwplan)
gw_fuzz_target(wkb LIBS gwhttp gwmodel gwstore)
target_include_directories(fuzz_wkb PRIVATE ${CMAKE_SOURCE_DIR}/geo/model)
gw_fuzz_target(csv_import LIBS gwio)
gw_fuzz_target(dbf_import LIBS gwio)
gw_fuzz_target(csv_table LIBS gwcore)
gw_fuzz_target(tilestats LIBS gwtiles)
gw_fuzz_target(serve_config LIBS gwcli)
target_include_directories(fuzz_serve_config PRIVATE ${CMAKE_SOURCE_DIR}/api/cli)
gw_fuzz_target(road_tags LIBS gwroad)
gw_fuzz_target(glyph_path LIBS gwroutes)
gw_fuzz_target(cql2 LIBS gwstore)
target_include_directories(fuzz_cql2 PRIVATE ${CMAKE_SOURCE_DIR}/geo/store)
gw_fuzz_target(negotiate LIBS gwhttp)
gw_fuzz_target(accept_language LIBS gwhttp)

# The MVT round trip decodes the encoder's bytes with protobuf-c's code generated from the
# Mapbox vector tile schema (tests/fuzz/vector_tile.proto): a decoder independent of tiles/mvt.c.
find_program(PROTOC_C protoc-c REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
set(GW_FUZZ_GEN ${CMAKE_BINARY_DIR}/generated/fuzz)
file(MAKE_DIRECTORY ${GW_FUZZ_GEN})
add_custom_command(
  OUTPUT ${GW_FUZZ_GEN}/vector_tile.pb-c.c ${GW_FUZZ_GEN}/vector_tile.pb-c.h
  COMMAND ${PROTOC_C} --proto_path=${CMAKE_SOURCE_DIR}/tests/fuzz --c_out=${GW_FUZZ_GEN}
          ${CMAKE_SOURCE_DIR}/tests/fuzz/vector_tile.proto
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/vector_tile.proto
  COMMENT "protoc-c vector_tile.proto"
  VERBATIM)
set_source_files_properties(${GW_FUZZ_GEN}/vector_tile.pb-c.c PROPERTIES COMPILE_OPTIONS
                            "-Wno-error;-w")
gw_fuzz_target(mvt LIBS gwtiles PkgConfig::PROTOBUF_C SOURCES ${GW_FUZZ_GEN}/vector_tile.pb-c.c)
target_include_directories(fuzz_mvt PRIVATE ${GW_FUZZ_GEN})
