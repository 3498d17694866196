# fuzz_flags.cmake — compile flags of a -DGW_FUZZ=ON build: every library is built with
# libFuzzer's coverage instrumentation (fuzzer-no-link) plus ASan and UBSan, so a fuzz target
# sees the real code paths and a memory error or UB in gridwatch stops the run.  The targets
# themselves are in cmake/fuzz.cmake.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "GW_FUZZ needs clang (CC=clang cmake -S . -B build-fuzz -DGW_FUZZ=ON)")
endif()
add_compile_options(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)
