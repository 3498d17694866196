#!/bin/sh
# package-deb.sh — build the Debian package (cmake/package.cmake) in its own build directory:
# a release build installed under /usr, with the map wall (web/node_modules must be there:
# npm ci in web/), the man page, the configuration file and the systemd unit.
# usage: tools/package-deb.sh [BUILD_DIR]   (default build-deb; prints the .deb's path)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build-deb}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DGW_DEB=ON \
      -DGW_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$jobs" >/dev/null
(cd "$dir" && cpack -G DEB >/dev/null)
ls "$dir"/gridwatch_*.deb
