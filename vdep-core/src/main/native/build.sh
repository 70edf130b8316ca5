#!/usr/bin/env bash
# Builds the native kernels (vdep_kernels.cpp) into $1/libvdepkernels.so; $2 is the JDK home
# (for jni.h). Called by Maven (vdep-core's pom) before packaging. Where the library cannot be
# built (not Linux x86-64, no g++, no jni.h) it says so and succeeds: vdep then uses ND4J's
# kernels. A compiler error on a machine that has g++ fails the build.
set -euo pipefail
out="$1"
jdk="$2"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/vdep_kernels.cpp"
lib="$out/libvdepkernels.so"
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "[vdep native] $(uname -s)-$(uname -m): no native kernels; ND4J's are used"
  exit 0
fi
if ! command -v g++ >/dev/null 2>&1; then
  echo "[vdep native] WARNING: g++ not found: native kernels not built; ND4J's (slower) are used"
  exit 0
fi
if [[ ! -f "$jdk/include/jni.h" ]]; then
  echo "[vdep native] WARNING: no jni.h under $jdk/include: native kernels not built; ND4J's (slower) are used"
  exit 0
fi
if [[ -f "$lib" && "$lib" -nt "$src" && "$lib" -nt "$0" ]]; then
  exit 0
fi
mkdir -p "$out"
# Warnings fail the build only where VDEP_WERROR=1 (the CI): a newer g++'s new warning must not
# break a user's build.
werror=()
if [[ "${VDEP_WERROR:-0}" == 1 ]]; then
  werror=(-Werror)
fi
# -march=haswell: AVX2 and FMA, checked at load time (NativeKernels.cpuSupported).
# -fno-sized-deallocation: C++14's sized operator delete needs CXXABI_1.3.9 (GCC 5's libstdc++);
# without it the library loads with GCC 4.8's (CentOS 7), as scripts/check-glibc-symbols.sh checks.
g++ -std=c++17 -O3 -march=haswell -mtune=generic -fno-math-errno -fno-sized-deallocation \
  -Wall -Wextra ${werror[@]+"${werror[@]}"} \
  -fPIC -shared -I"$jdk/include" -I"$jdk/include/linux" -o "$lib.tmp" "$src"
mv "$lib.tmp" "$lib"
echo "[vdep native] built $lib"
