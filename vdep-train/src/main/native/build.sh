#!/usr/bin/env bash
# Builds the MPI collectives (vdep_mpi.cpp) into $1/libvdepmpi.so; $2 is the JDK home (for jni.h).
# Called by Maven (vdep-train's pom). Where MPI's headers are not found (no mpicxx/mpicc, no mpi.h)
# it says so in one line and succeeds: single-process training needs nothing from it, and a
# multi-rank launch then stops with one line saying the library is missing.
set -euo pipefail
out="$1"
jdk="$2"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/vdep_mpi.cpp"
lib="$out/libvdepmpi.so"
if [[ "$(uname -s)" != "Linux" ]]; then
  echo "[vdep mpi] $(uname -s): MPI collectives not built (Linux only); training runs in one process"
  exit 0
fi
flags=""
for wrapper in mpicxx mpicc; do
  if command -v "$wrapper" >/dev/null 2>&1 && flags="$("$wrapper" --showme:compile 2>/dev/null) $("$wrapper" --showme:link 2>/dev/null)"; then
    break
  fi
  flags=""
done
if [[ -z "$flags" ]]; then
  # MPICH and Intel MPI wrappers print the whole command with -show
  for wrapper in mpicxx mpicc; do
    if command -v "$wrapper" >/dev/null 2>&1 && flags="$("$wrapper" -show 2>/dev/null | cut -d' ' -f2-)"; then
      break
    fi
    flags=""
  done
fi
if [[ -z "$flags" ]] || ! command -v g++ >/dev/null 2>&1 || [[ ! -f "$jdk/include/jni.h" ]]; then
  echo "[vdep mpi] no MPI (mpicxx/mpicc with mpi.h), g++ or jni.h: MPI collectives not built; multi-rank training unavailable (apt-get install libopenmpi-dev)"
  exit 0
fi
if [[ -f "$lib" && "$lib" -nt "$src" && "$lib" -nt "$0" ]]; then
  exit 0
fi
mkdir -p "$out"
# libmpi_cxx (the deprecated C++ bindings) is not needed: the C API only.
flags="${flags//-lmpi_cxx/}"
# shellcheck disable=SC2086
g++ -std=c++17 -O2 -Wall -Wextra -Werror -fPIC -shared -I"$jdk/include" -I"$jdk/include/linux" -o "$lib.tmp" "$src" $flags -ldl
mv "$lib.tmp" "$lib"
echo "[vdep mpi] built $lib"
