#!/bin/sh
# check_layers_rejects.sh: scripts/check-layers.sh on a small tree with one break of each
# kind must fail and name every broken line (so the check_layers test can fail at all).
# usage: check_layers_rejects.sh CHECK_LAYERS_SH
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 CHECK_LAYERS_SH" >&2
	exit 2
fi
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
for d in base metrics datasets adapters store harness reports cli; do
	mkdir "$tree/$d"
done
printf '/* eb_err.h */\n' >"$tree/base/eb_err.h"
printf '/* store.h */\n' >"$tree/store/store.h"
printf '/* store_int.h */\n#include <sqlite3.h>\n' >"$tree/store/store_int.h"
printf '/* run.h */\n' >"$tree/harness/run.h"
printf '/* rdata.h */\n' >"$tree/reports/rdata.h"
# allowed: the store's own header and SQL inside store/, a header below
printf '#include "store_int.h"\n#include "eb_err.h"\nint f(void) { return sqlite3_prepare_v2(0, 0, 0, 0, 0); }\n' \
	>"$tree/store/store.c"
# each line below breaks the order once
printf '#include "run.h"\n' >"$tree/store/up.c"
printf '#include "../base/eb_err.h"\n' >"$tree/metrics/climb.c"
printf '#include <sqlite3.h>\n' >"$tree/reports/hdr.c"
printf '#include "store_int.h"\n' >"$tree/cli/private.c"
printf 'int g(void) { return sqlite3_column_int64(0, 0) > 0; }\n' >"$tree/reports/sql.c"

rc=0
out=$(bash "$1" "$tree" 2>&1) || rc=$?
echo "$out"
fail=0
if [ "$rc" != 1 ]; then
	echo "FAIL: exit status $rc, expected 1"
	fail=1
fi
for want in "store/up.c:1:" "metrics/climb.c:1:" "reports/hdr.c:1:" "cli/private.c:1:" \
	"reports/sql.c:1:"; do
	case "$out" in
	*"$want"*) ;;
	*) echo "FAIL: no finding for $want"; fail=1 ;;
	esac
done
case "$out" in
*"store/store.c"*) echo "FAIL: store/store.c reported"; fail=1 ;;
esac
exit $fail
