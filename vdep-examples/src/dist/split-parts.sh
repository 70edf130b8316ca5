#!/usr/bin/env bash
# Writes ARCHIVE as numbered parts of at most SIZE (split(1) sizes: 60M = 60 MiB) into OUT_DIR, with
# SHA256SUMS (every part and the whole archive) and join.sh, which checks the parts and puts the
# archive back together. For links that take a limited size per transfer.
#   split-parts.sh ARCHIVE [SIZE (default 60M)] [OUT_DIR (default ARCHIVE.parts)]
# On the other side (needs only bash and coreutils):  cd OUT_DIR && bash join.sh
set -euo pipefail
archive="$1"
size="${2:-60M}"
out="${3:-$archive.parts}"
name="$(basename "$archive")"
[[ -f "$archive" ]] || { echo "split-parts: $archive not found" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
split --bytes="$size" --numeric-suffixes=1 --suffix-length=3 "$archive" "$out/$name.part-"
(cd "$out" && sha256sum "$name".part-* > SHA256SUMS)
echo "$(sha256sum < "$archive" | cut -d' ' -f1)  $name" >> "$out/SHA256SUMS"
cat > "$out/join.sh" <<JOIN
#!/usr/bin/env bash
# Checks the parts against SHA256SUMS, joins them into $name and checks that too.
set -euo pipefail
cd "\$(dirname "\$0")"
grep '\.part-' SHA256SUMS | sha256sum --check --quiet || { echo "join.sh: a part is missing or damaged (see above)" >&2; exit 1; }
cat $name.part-* > $name.tmp
mv $name.tmp $name
grep -v '\.part-' SHA256SUMS | sha256sum --check --quiet || { echo "join.sh: the joined $name does not match SHA256SUMS" >&2; exit 1; }
echo "join.sh: $name ok; unpack with: tar -xJf $name"
JOIN
chmod 755 "$out/join.sh"
echo "[vdep dist] $(ls "$out" | grep -c '\.part-') parts of at most $size in $out (SHA256SUMS, join.sh)"
