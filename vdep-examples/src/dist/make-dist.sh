#!/usr/bin/env bash
# Builds the self-contained distribution (mvn -Pdist -DskipTests package, see docs/getting-started.md):
#   target/dist/vdep-VERSION-linux-x86_64.tar.xz  with a jlinked Java runtime, every jar (the ND4J,
#   OpenBLAS and JNA natives of this platform only; the tokenizer is pure Java), the native CPU kernels (inside
#   vdep-core's jar), the CUDA kernel sources with the JNI headers and the script that builds them on
#   the GPU machine, bin/vdep and a README.
# Called by Maven (vdep-examples' dist profile) after vdep.jar is packaged:
#   make-dist.sh VERSION TARGET_DIR JAVA_HOME REPOSITORY_ROOT [SPLIT_SIZE] [RUNTIME_JDK]
# SPLIT_SIZE (e.g. 60M, -Ddist.splitSize=60M) also writes the archive as parts (split-parts.sh).
# RUNTIME_JDK (-Ddist.jdk=DIR, default the building JDK) is the JDK whose runtime is jlinked: its
# binaries set the oldest glibc the distribution runs on (Debian's JDK 17 needs 2.34; Temurin's
# builds 2.17). It needs jmods, or a linkable run-time image (JDK 24+, JEP 493).
# VDEP_DIST_XZ: xz's options (default -6; -T0 is always added).
set -euo pipefail
version="$1"
target="$2"
jdk="$3"
root="$4"
split_size="${5:-}"
runtime_jdk="${6:-}"
[[ -n "$runtime_jdk" ]] || runtime_jdk="$jdk"
here="$(cd "$(dirname "$0")" && pwd)"
platform=linux-x86_64
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "[vdep dist] the distribution is built for $platform, on $platform; this is $(uname -s)-$(uname -m)" >&2
  exit 1
fi
for tool in jlink unzip xz tar sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "$jdk/bin/$tool" ]]; then
    echo "[vdep dist] $tool not found (needed to build the distribution)" >&2
    exit 1
  fi
done
if [[ ! -x "$runtime_jdk/bin/jlink" ]]; then
  echo "[vdep dist] $runtime_jdk/bin/jlink not found (-Ddist.jdk must name a JDK)" >&2
  exit 1
fi
start=$(date +%s)
name="vdep-$version-$platform"
out="$target/dist"
stage="$out/$name"
work="$out/work"
rm -rf "$out"
mkdir -p "$stage/bin" "$stage/lib" "$work"

# -- jars: vdep.jar and exactly the ones its manifest's Class-Path names
jar_file="$target/vdep.jar"
classpath=$(unzip -p "$jar_file" META-INF/MANIFEST.MF | tr -d '\r' \
  | awk '/^Class-Path:/ {f = 1; s = substr($0, 13); next} f && /^ / {s = s substr($0, 2); next} {f = 0} END {print s}')
cp "$jar_file" "$stage/lib/vdep.jar"
# Jars with native libraries: other platforms' libraries are removed, and the jar is rewritten with
# its entries stored uncompressed, so that xz compresses them (deflate inside the jar would hide them:
# ND4J's 320 MB libnd4jcpu.so is 91 MB deflated, about 31 MB in the .tar.xz).
repack() { # jar, then find(1) expressions selecting the files to drop
  local jar="$1"; shift
  local dir="$work/$(basename "$jar" .jar)"
  mkdir -p "$dir"
  unzip -q -o "$jar" -d "$dir"
  if (($#)); then find "$dir" "$@" -delete; fi
  rm -f "$stage/lib/$(basename "$jar")"
  "$jdk/bin/jar" --create --no-manifest --no-compress --file "$stage/lib/$(basename "$jar")" -C "$dir" .
  rm -rf "$dir"
}
for entry in $classpath; do
  jar="$target/$entry"
  base="$(basename "$jar")"
  [[ -f "$jar" ]] || { echo "[vdep dist] $jar (in vdep.jar's Class-Path) not found" >&2; exit 1; }
  case "$base" in
    jna-[0-9]*.jar)
      repack "$jar" -type f -name '*jnidispatch*' ! -path '*/com/sun/jna/linux-x86-64/*' ;;
    *-"$platform".jar)
      repack "$jar" ;;
    *)
      cp "$jar" "$stage/lib/" ;;
  esac
done

# -- the Java runtime: only the modules the jars use. Found with
#    jdeps --print-module-deps --ignore-missing-deps --multi-release 17 (run over the jars' classes
#    without their module-info, which nd4j-api's is broken); the CI runs the demo and `vdep info` on it.
modules=java.base,java.compiler,java.desktop,java.naming,java.sql,jdk.management,jdk.unsupported
# Uncompressed modules (the .tar.xz compresses them better than jlink's zip). Without jmods, jlink
# links from the JDK's own run-time image where the JDK allows it (JEP 493).
module_path=()
[[ -d "$runtime_jdk/jmods" ]] && module_path=(--module-path "$runtime_jdk/jmods")
# --generate-cds-archive: the class-data-sharing archive a JDK ships (lib/server/classes.jsa), which
# a linked runtime lacks unless asked; each start then maps the JDK's classes instead of parsing them.
if ! "$runtime_jdk/bin/jlink" ${module_path[@]+"${module_path[@]}"} --add-modules "$modules" --strip-debug --no-header-files \
  --no-man-pages --generate-cds-archive --output "$stage/runtime"; then
  echo "[vdep dist] jlink of $runtime_jdk failed: it needs the JDK's jmods (Debian/Ubuntu: openjdk-17-jdk; RHEL: java-17-openjdk-jmods)" >&2
  exit 1
fi
# the archive for heaps over 32 GB (no compressed oops) is 10 MB more for a setting bin/vdep does not
# use; without it such a JVM starts without sharing, as -Xshare:auto allows
rm -f "$stage/runtime/lib/server/classes_nocoops.jsa"

# -- CUDA kernel sources (when vdep-core has them), the JNI headers they compile against and the
#    build script, for bin/build-cuda on the GPU machine
cuda_src="$root/vdep-core/src/main/cuda"
if [[ -d "$cuda_src" ]]; then
  mkdir -p "$stage/cuda/include/linux"
  cp -r "$cuda_src"/. "$stage/cuda/"
  cp "$jdk/include/jni.h" "$stage/cuda/include/"
  cp "$jdk/include/linux/jni_md.h" "$stage/cuda/include/linux/"
  # javac -h's declarations of vdep's native methods (the build checks the C signatures against them)
  if compgen -G "$root/vdep-core/target/jni-headers/*.h" >/dev/null; then
    mkdir -p "$stage/cuda/jni-headers"
    cp "$root/vdep-core/target/jni-headers/"*.h "$stage/cuda/jni-headers/"
  fi
fi

# -- launchers, README, licence
cp "$here/bin/vdep" "$here/bin/build-cuda" "$stage/bin/"
chmod 755 "$stage/bin/"*
# the oldest glibc everything here loads on: the newest GLIBC_ symbol version any ELF file needs
glibc=$(find "$stage" -type f \( -name '*.so*' -o -path '*/bin/*' -o -name '*.jar' \) | while read -r f; do
  case "$f" in
    *.jar) unzip -Z1 "$f" | grep -E '\.so(\.[0-9]+)*$' | while read -r e; do unzip -p "$f" "$e" > "$work/elf"; objdump -T "$work/elf" 2>/dev/null || true; done ;;
    *) objdump -T "$f" 2>/dev/null || true ;;
  esac
done | grep -oE '\(GLIBC_[0-9.]+\)' | tr -d '()' | sed 's/GLIBC_//' | sort -uV | tail -n1)
java_version=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$stage/runtime/release")
sed -e "s/@VERSION@/$version/g" -e "s/@GLIBC@/$glibc/g" -e "s/@JAVA@/$java_version/g" "$here/README.txt" > "$stage/README.txt"
cp "$root/LICENSE" "$root/NOTICE" "$stage/"
unpacked=$(du -sm "$stage" | cut -f1)

# -- the archive, reproducible: sorted names, one owner, the build's time stamp
archive="$out/$name.tar.xz"
mtime="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$out" -cf - "$name" \
  | xz -T0 ${VDEP_DIST_XZ:--6} > "$archive.tmp"
mv "$archive.tmp" "$archive"
rm -rf "$work"
echo "[vdep dist] $archive: $(( $(stat -c %s "$archive") / 1048576 )) MiB ($unpacked MiB unpacked; Java $java_version; needs glibc $glibc) in $(( $(date +%s) - start )) s"
if [[ -n "$split_size" ]]; then
  bash "$here/split-parts.sh" "$archive" "$split_size" "$out/parts"
fi
