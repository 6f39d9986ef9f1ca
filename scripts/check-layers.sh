#!/usr/bin/env bash
# The layer check: every project #include in a folder names a header of that folder or of
# a folder below it in the order
#
#   base  <-  metrics, datasets, adapters  <-  store  <-  harness  <-  reports  <-  cli
#
# (metrics, datasets and adapters are one layer and do not include each other), no
# include climbs with "../", and the database is the store's alone: no sqlite3 call or
# header outside store/, and store_int.h (the handle's fields) is store/'s own. CMake enforces the same order through each library's include
# directory; this script says which line broke it. CI runs it (scripts/test.sh, and the
# ctest "check_layers").
#   scripts/check-layers.sh [REPO_ROOT]     exit 0 when the order holds, 1 with a list
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

# what each folder may include (its own folder first)
declare -A allowed=(
  [base]="base"
  [metrics]="metrics base"
  [datasets]="datasets base"
  [adapters]="adapters base"
  [store]="store metrics base"
  [harness]="harness store metrics datasets adapters base"
  [reports]="reports harness store metrics datasets adapters base"
  [cli]="cli reports harness store metrics datasets adapters base"
)
order="base metrics datasets adapters store harness reports cli"

# where each project header lives; a name in two folders would make includes ambiguous
declare -A home=()
bad=0
for d in $order; do
  for h in "$d"/*.h "$d"/*.h.in; do
    [ -e "$h" ] || continue
    n="$(basename "$h" .in)"
    if [ -n "${home[$n]:-}" ]; then
      echo "check-layers: header '$n' is in both ${home[$n]}/ and $d/ (rename one)"
      bad=1
    fi
    home[$n]="$d"
  done
done

for d in $order; do
  for f in "$d"/*.c "$d"/*.h; do
    [ -e "$f" ] || continue
    lineno=0
    while IFS= read -r line; do
      lineno=$((lineno + 1))
      case "$line" in
        *'#include "'*) ;;
        *'#include <sqlite3.h>'*)
          if [ "$d" != store ]; then
            echo "$f:$lineno: includes <sqlite3.h>: only store/ talks to the database"
            bad=1
          fi
          continue ;;
        *) continue ;;
      esac
      inc="${line#*#include \"}"; inc="${inc%%\"*}"
      case "$inc" in
        ../*|*/../*)
          echo "$f:$lineno: #include \"$inc\" climbs with ../ (include the header by name)"
          bad=1; continue ;;
      esac
      n="$(basename "$inc")"
      if [ "$n" = store_int.h ] && [ "$d" != store ]; then
        echo "$f:$lineno: includes store_int.h, which is private to store/ (use reader.h)"
        bad=1; continue
      fi
      h="${home[$n]:-}"
      [ -n "$h" ] || continue        # not a project header (a system or llama.cpp one)
      ok=0
      for a in ${allowed[$d]}; do [ "$a" = "$h" ] && ok=1; done
      if [ "$ok" = 0 ]; then
        echo "$f:$lineno: $d/ includes $h/$n, which is above it or beside it (order: $order)"
        bad=1
      fi
    done <"$f"
  done
done

# SQL belongs to the store: no sqlite3_ call anywhere else in the program's folders
# (names with digits too: sqlite3_prepare_v2, sqlite3_column_int64)
files=()
for d in $order; do
  [ "$d" = store ] && continue
  for f in "$d"/*.[ch]; do
    if [ -e "$f" ]; then files+=("$f"); fi
  done
done
if [ "${#files[@]}" -gt 0 ] && grep -n 'sqlite3_[a-z0-9_]*(' "${files[@]}" >/tmp/check-layers.$$; then
  sed 's/$/   <- a sqlite3 call outside store\//' /tmp/check-layers.$$
  bad=1
fi
rm -f /tmp/check-layers.$$

if [ "$bad" != 0 ]; then
  echo "check-layers: the layer order is broken (see above)"
  exit 1
fi
echo "check-layers: ok ($(for d in $order; do ls "$d"/*.[ch] 2>/dev/null; done | wc -l) files in $(echo $order | wc -w) folders)"
