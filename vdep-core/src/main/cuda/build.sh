#!/usr/bin/env bash
# Builds the CUDA kernels (*.cu here) and the NCCL bindings (nccl.cu; NCCL itself is opened at
# run time) into $1/libvdepcuda.so with nvcc. $2 is a JDK home (for jni.h); without one, the JNI
# headers are taken from $VDEP_JNI_INCLUDE or ./include next to this script (the distribution ships them there). Called by Maven (vdep-core's pom) before
# packaging, and runnable on its own on a GPU machine:
#
#   vdep-core/src/main/cuda/build.sh OUT_DIR [JAVA_HOME [JNI_HEADERS]]
#
# then run vdep with VDEP_CUDA_LIB=OUT_DIR (or -Dvdep.cuda.lib=OUT_DIR).
#
# Without nvcc it prints one line and succeeds: vdep then reports at run time that the CUDA
# kernels were not built. A compile error on a machine that has nvcc fails the build.
#
# Environment:
#   NVCC              the compiler (default: nvcc on PATH, else $CUDA_HOME/bin/nvcc, /usr/local/cuda/bin/nvcc)
#   VDEP_CUDA_ARCHS   compute capabilities to build for (default "80 90": sm_80 and sm_90 code
#                     plus compute_90 PTX, which newer GPUs compile at load time)
#   VDEP_CUDA_WERROR  0 to let warnings pass (default: warnings are errors)
set -euo pipefail
out="$1"
jdk="${2:-}"
# javac -h output (Maven passes it): each source then includes the generated declarations, so a
# JNI function whose C signature differs from its Java declaration does not compile
headers="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"
lib="$out/libvdepcuda.so"

nvcc_bin="${NVCC:-}"
if [[ -z "$nvcc_bin" ]]; then
  for c in "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:+$CUDA_HOME/bin/nvcc}" /usr/local/cuda/bin/nvcc; do
    if [[ -n "$c" && -x "$c" ]]; then nvcc_bin="$c"; break; fi
  done
fi
if [[ -z "$nvcc_bin" ]]; then
  echo "[vdep cuda] nvcc not found: CUDA kernels not built (--device cuda will say so)"
  exit 0
fi
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "[vdep cuda] $(uname -s)-$(uname -m): CUDA kernels are built for Linux x86-64 only"
  exit 0
fi

jni=""
for c in "${jdk:+$jdk/include}" "${VDEP_JNI_INCLUDE:-}" "$here/include"; do
  if [[ -n "$c" && -f "$c/jni.h" ]]; then jni="$c"; break; fi
done
if [[ -z "$jni" ]]; then
  echo "[vdep cuda] no jni.h (give a JDK home as the second argument, or set VDEP_JNI_INCLUDE): CUDA kernels not built" >&2
  exit 1
fi
jni_md="$jni/linux"
[[ -f "$jni_md/jni_md.h" ]] || jni_md="$jni"

sources=("$here"/*.cu)
# the classes whose native methods libvdepcuda.so defines (CudaKernels: kernels, CudaRuntime:
# runtime.cu, Nccl: nccl.cu)
jni_classes=(CudaKernels CudaRuntime Nccl)
jni_headers=()
use_headers=0
if [[ -n "$headers" ]]; then
  use_headers=1
  for c in "${jni_classes[@]}"; do
    h="$headers/io_github_vdep_core_cuda_$c.h"
    if [[ -f "$h" ]]; then jni_headers+=("$h"); else use_headers=0; fi
  done
fi
# up to date: the library is newer than the sources and this script, and was built against the
# same JNI declarations (compared by content: javac rewrites the headers on every compile)
stamp="$out/.libvdepcuda.jni"
declarations=""
if [[ "$use_headers" == 1 ]]; then
  declarations="$(cat "${jni_headers[@]}" | cksum)"
fi
up_to_date=1
if [[ -f "$lib" && "$(cat "$stamp" 2>/dev/null || true)" == "$declarations" ]]; then
  for f in "${sources[@]}" "$here"/*.cuh "$0"; do
    if [[ "$f" -nt "$lib" ]]; then up_to_date=0; break; fi
  done
else
  up_to_date=0
fi
if [[ "$up_to_date" == 1 ]]; then
  exit 0
fi

archs="${VDEP_CUDA_ARCHS:-80 90}"
gencode=()
last=""
for a in $archs; do
  gencode+=(-gencode "arch=compute_$a,code=sm_$a")
  last="$a"
done
gencode+=(-gencode "arch=compute_$last,code=compute_$last")  # PTX for newer GPUs
werror=(-Werror all-warnings -Xcompiler -Werror)
if [[ "${VDEP_CUDA_WERROR:-1}" == "0" ]]; then werror=(); fi

mkdir -p "$out"
obj="$(mktemp -d)"
trap 'rm -rf "$obj"' EXIT
flags=(-std=c++17 -O3 "${gencode[@]}" -Xcompiler -fPIC -Xcompiler -Wall,-Wextra "${werror[@]}" -I"$jni" -I"$jni_md")
if [[ "$use_headers" == 1 ]]; then
  flags+=(-I"$headers")
  for c in "${jni_classes[@]}"; do flags+=(-include "io_github_vdep_core_cuda_$c.h"); done
fi
start=$(date +%s)
# one compiler per source file, in parallel
pids=()
for src in "${sources[@]}"; do
  "$nvcc_bin" "${flags[@]}" -c "$src" -o "$obj/$(basename "$src" .cu).o" &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
if [[ "$status" != 0 ]]; then
  echo "[vdep cuda] nvcc failed (set VDEP_CUDA_WERROR=0 to let warnings pass)" >&2
  exit 1
fi
# static CUDA runtime: at run time the library needs only the driver (libcuda.so.1), and cuBLAS,
# which it loads itself
"$nvcc_bin" -shared -cudart static "${gencode[@]}" -o "$lib.tmp" "$obj"/*.o -ldl
# every native method declared in Java must be defined (a missing one would only fail when called)
if [[ "$use_headers" == 1 ]] && command -v nm >/dev/null 2>&1; then
  missing="$(comm -23 <(grep -ho 'Java_io_github_vdep_core_cuda_[A-Za-z_0-9]*' "${jni_headers[@]}" | sort -u) \
                      <(nm -D --defined-only "$lib.tmp" | awk '{print $3}' | sort -u))"
  if [[ -n "$missing" ]]; then
    echo "[vdep cuda] native methods without a definition: $(echo $missing)" >&2
    exit 1
  fi
fi
mv "$lib.tmp" "$lib"
printf '%s' "$declarations" > "$stamp"
echo "[vdep cuda] built $lib with $("$nvcc_bin" --version | tail -1 | sed 's/^Build //') for sm ${archs} in $(( $(date +%s) - start )) s"
