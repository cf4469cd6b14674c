#!/usr/bin/env bash
# Driver of the install/consumption tests (tests/install/CMakeLists.txt): proves that vgic can be
# used the ways embedders use it, with the small C program in consumer/.
#
#   run_install_test.sh <step> --build-dir B --source-dir S --work-dir W --libdir L
#                              --generator G --c-compiler CC --cxx-compiler CXX [--config=C]
#
#   install           `cmake --install B --prefix W/prefix` and check what landed where
#   find_package      configure consumer/ with CMAKE_PREFIX_PATH=W/prefix (find_package(vgic) ->
#                     vgic::vgic), build it, run it
#   pkg_config        compile consumer/main.c with `pkg-config --cflags --libs vgic` from
#                     W/prefix/L/pkgconfig, run it (exit 77 = skipped when pkg-config is missing)
#   add_subdirectory  configure consumer/ with add_subdirectory(S), build it, run it
#
# L is CMAKE_INSTALL_LIBDIR as the vgic build resolved it: "lib", or "lib/x86_64-linux-gnu" when
# GNUInstallDirs chose a multiarch directory (prefix /usr on Debian).
set -euo pipefail

step=${1:?step}
shift
build='' source='' work='' libdir='' generator='' cc='' cxx='' config=''
while [ $# -gt 0 ]; do
  case $1 in
    --config=*) config=${1#--config=}; shift; continue ;;  # empty for single-config generators
    --build-dir) build=$2 ;;
    --source-dir) source=$2 ;;
    --work-dir) work=$2 ;;
    --libdir) libdir=$2 ;;
    --generator) generator=$2 ;;
    --c-compiler) cc=$2 ;;
    --cxx-compiler) cxx=$2 ;;
    *) echo "run_install_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
for v in build source work libdir generator cc cxx; do
  [ -n "${!v}" ] || { echo "run_install_test.sh: an argument is missing ($v)" >&2; exit 2; }
done

prefix=$work/prefix
consumer=$source/tests/install/consumer
jobs=$(nproc 2>/dev/null || echo 2)

fail() { echo "run_install_test.sh ($step): FAILED: $*" >&2; exit 1; }
under_prefix() { # is $1 inside the test prefix?
  local p
  p=$(realpath -m "$1")
  case $p in "$(realpath -m "$prefix")"/*) return 0 ;; *) return 1 ;; esac
}

case $step in
  install)
    rm -rf "$prefix"
    cmake --install "$build" --prefix "$prefix" ${config:+--config "$config"}
    for f in include/vgic/vgic.h include/vgic/vgic.hpp \
             "$libdir/cmake/vgic/vgicConfig.cmake" "$libdir/cmake/vgic/vgicConfigVersion.cmake" \
             "$libdir/cmake/vgic/vgicTargets.cmake" "$libdir/pkgconfig/vgic.pc"; do
      [ -f "$prefix/$f" ] || fail "$prefix/$f was not installed"
    done
    ls "$prefix/$libdir"/libvgic.* >/dev/null 2>&1 || fail "no libvgic.* in $prefix/$libdir"
    echo "installed into $prefix (libdir $libdir)"
    ;;

  find_package)
    [ -f "$prefix/$libdir/cmake/vgic/vgicConfig.cmake" ] || fail "run the install step first"
    b=$work/find_package
    rm -rf "$b"
    cmake -S "$consumer" -B "$b" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
          ${config:+-DCMAKE_BUILD_TYPE="$config"} \
          -DVGIC_CONSUME=find_package -DCMAKE_PREFIX_PATH="$prefix" \
          -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    # It must have found the copy just installed, not another one on the system.
    found=$(sed -n 's/^vgic_DIR:PATH=//p' "$b/CMakeCache.txt")
    under_prefix "$found" || fail "find_package(vgic) found $found, not the package in $prefix"
    cmake --build "$b" -j "$jobs"
    "$b/consumer"
    ;;

  pkg_config)
    if ! command -v pkg-config >/dev/null; then
      echo "pkg-config is not installed (scripts/install-deps.sh installs it); skipping" >&2
      exit 77
    fi
    [ -f "$prefix/$libdir/pkgconfig/vgic.pc" ] || fail "run the install step first"
    b=$work/pkg_config
    rm -rf "$b" && mkdir -p "$b"
    export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
    pkg-config --exists --print-errors vgic || fail "pkg-config cannot find vgic in $PKG_CONFIG_PATH"
    for var in libdir includedir; do
      dir=$(pkg-config --variable="$var" vgic)
      under_prefix "$dir" || fail "vgic.pc: $var=$dir is not inside $prefix (the .pc is not relocatable?)"
      [ -d "$dir" ] || fail "vgic.pc: $var=$dir does not exist"
    done
    cflags=$(pkg-config --cflags vgic)
    libs=$(pkg-config --libs vgic)
    echo "pkg-config --cflags --libs vgic: $cflags $libs"
    # Plain compiler driver, as a Makefile-based VMM would do it; word splitting of the flags is intended.
    # shellcheck disable=SC2086
    "$cc" -std=c99 -Wall -Wextra -Wpedantic -Werror $cflags "$consumer/main.c" -o "$b/consumer" $libs
    # (LD_LIBRARY_PATH matters only for a shared libvgic, BUILD_SHARED_LIBS=ON.)
    LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$b/consumer"
    ;;

  add_subdirectory)
    b=$work/add_subdirectory
    rm -rf "$b"
    # No build type: vgic is compiled again from source here, and unoptimised is the quickest; this
    # test is about consuming the source tree, not about speed.
    cmake -S "$consumer" -B "$b" -G "$generator" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
          -DVGIC_CONSUME=add_subdirectory -DVGIC_SOURCE_DIR="$source"
    cmake --build "$b" -j "$jobs"
    "$b/consumer"
    ;;

  *)
    echo "run_install_test.sh: unknown step $step" >&2
    exit 2
    ;;
esac
