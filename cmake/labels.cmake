# labels.cmake — the map styles' sprite, made at build time (api/routes/labels_http.c serves it):
#   build/sprite/sprite{,@2x}.{png,json}   from web/sprite/*.svg by tools/gen_sprite.py + rsvg-convert
# installed as P/share/gridwatch/sprite/ (the binary finds it as ../share/gridwatch/sprite).
# The glyphs need no build step: they are made from the Debian font files on first request.
find_program(GW_RSVG_CONVERT rsvg-convert)
find_program(GW_PYTHON3 python3)
file(GLOB GW_SPRITE_SVGS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/web/sprite/*.svg)
set(GW_SPRITE_DIR ${PROJECT_BINARY_DIR}/sprite)
if(GW_RSVG_CONVERT AND GW_PYTHON3)
  add_custom_command(
    OUTPUT ${GW_SPRITE_DIR}/sprite.json ${GW_SPRITE_DIR}/sprite.png
           ${GW_SPRITE_DIR}/sprite@2x.json ${GW_SPRITE_DIR}/sprite@2x.png
    COMMAND ${GW_PYTHON3} ${PROJECT_SOURCE_DIR}/tools/gen_sprite.py ${PROJECT_SOURCE_DIR}/web/sprite
            ${GW_SPRITE_DIR} ${GW_RSVG_CONVERT}
    DEPENDS ${GW_SPRITE_SVGS} ${PROJECT_SOURCE_DIR}/tools/gen_sprite.py
    COMMENT "map sprite from web/sprite/*.svg")
  add_custom_target(gridwatch_sprite ALL DEPENDS ${GW_SPRITE_DIR}/sprite.json)
  install(FILES ${GW_SPRITE_DIR}/sprite.json ${GW_SPRITE_DIR}/sprite.png
                ${GW_SPRITE_DIR}/sprite@2x.json ${GW_SPRITE_DIR}/sprite@2x.png
          DESTINATION ${CMAKE_INSTALL_DATADIR}/gridwatch/sprite COMPONENT wall)
else()
  message(WARNING "rsvg-convert (Debian: librsvg2-bin) or python3 not found: the map sprite is "
                  "not built and the wall draws its symbols as circles (.ci/install-deps installs it)")
endif()
