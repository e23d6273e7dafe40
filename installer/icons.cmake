# Renders the icons (cmake -P, at build time; see cmake/Packaging.cmake):
#   -DRSVG=rsvg-convert -DSVGS=a.svg,b.svg -DSIZES=16,22,... -DOUT=<dir>
#   [-DMAGICK=magick|convert -DICO=<file.ico> -DICO_SIZES=16,20,...]
# Every SVG becomes OUT/hicolor/<n>x<n>/apps/<name>.png; latchkey.svg also the
# multi-size ICO (PNG-compressed 256 px entry, the rest as bitmaps).
string(REPLACE "," ";" svgs "${SVGS}")
string(REPLACE "," ";" sizes "${SIZES}")

function(render svg size png)
  get_filename_component(dir ${png} DIRECTORY)
  file(MAKE_DIRECTORY ${dir})
  execute_process(COMMAND ${RSVG} -w ${size} -h ${size} -o ${png} ${svg}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${png})
    message(FATAL_ERROR "rsvg-convert could not render ${svg} at ${size} px: ${err}")
  endif()
endfunction()

foreach(svg IN LISTS svgs)
  get_filename_component(name ${svg} NAME_WE)
  foreach(size IN LISTS sizes)
    render(${svg} ${size} ${OUT}/hicolor/${size}x${size}/apps/${name}.png)
  endforeach()
  if(ICO AND name STREQUAL "latchkey")
    string(REPLACE "," ";" ico_sizes "${ICO_SIZES}")
    set(pngs "")
    foreach(size IN LISTS ico_sizes)
      render(${svg} ${size} ${OUT}/ico/${size}.png)
      list(APPEND pngs ${OUT}/ico/${size}.png)
    endforeach()
    execute_process(COMMAND ${MAGICK} ${pngs} ${ICO} RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT EXISTS ${ICO})
      message(FATAL_ERROR "ImageMagick could not write ${ICO}: ${err}")
    endif()
  endif()
endforeach()
