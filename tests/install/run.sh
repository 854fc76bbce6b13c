#!/bin/sh
# tests/install/run.sh SRC_DIR BUILD_DIR: install the built troupe into a
# scratch prefix, then build and run a consumer twice: with pkg-config and
# with find_package(troupe). Fails on the first error.
set -eu
src=$1
build=$2
prefix=$build/install-test/prefix
rm -rf "$build/install-test"
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name troupe.pc | head -n 1)")
libdir=$(dirname "$pcdir")
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$build/install-test/consumer-pc" \
   "$src/tests/install/consumer.c" $(pkg-config --cflags --libs troupe)
LD_LIBRARY_PATH=$libdir "$build/install-test/consumer-pc"
cmake -S "$src/tests/install" -B "$build/install-test/cmake" \
      -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/install-test/cmake" >/dev/null
LD_LIBRARY_PATH=$libdir "$build/install-test/cmake/consumer"
echo "install check: pkg-config and find_package consumers ran"
