#!/usr/bin/env bash
# Fails when a shared library needs a glibc symbol version newer than 2.17 (CentOS 7) or a
# libstdc++ one newer than GCC 4.8's (GLIBCXX_3.4.19, CXXABI_1.3.7), i.e. when it would not load
# there. Usage: scripts/check-glibc-symbols.sh lib.so [more.so ...]
set -euo pipefail
max_glibc=2.17
max_glibcxx=3.4.19
max_cxxabi=1.3.7
newer() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" != "$2" ]]; } # $1 > $2
status=0
for lib in "$@"; do
  [[ -f "$lib" ]] || { echo "check-glibc-symbols: $lib not found" >&2; exit 1; }
  versions=$(objdump -T "$lib" | grep -oE '\((GLIBC|GLIBCXX|CXXABI)_[0-9.]+\)' | tr -d '()' | sort -uV)
  bad=()
  for v in $versions; do
    case "$v" in
      GLIBC_*) newer "${v#GLIBC_}" "$max_glibc" && bad+=("$v") ;;
      GLIBCXX_*) newer "${v#GLIBCXX_}" "$max_glibcxx" && bad+=("$v") ;;
      CXXABI_*) newer "${v#CXXABI_}" "$max_cxxabi" && bad+=("$v") ;;
    esac
  done
  if ((${#bad[@]})); then
    echo "check-glibc-symbols: $lib needs ${bad[*]} (newer than GLIBC_$max_glibc / GLIBCXX_$max_glibcxx / CXXABI_$max_cxxabi):" >&2
    for v in "${bad[@]}"; do objdump -T "$lib" | grep -F "($v)" | awk '{print "  " $NF}' | sed "s/\$/ @$v/" >&2; done
    status=1
  else
    echo "check-glibc-symbols: $lib needs at most $(echo "$versions" | grep '^GLIBC_' | tail -n1) (ok for glibc $max_glibc)"
  fi
done
exit $status
