#!/bin/sh
# Replays every committed fuzz corpus (seeds and past finds) through its
# target, built with the ordinary compiler (and under ASan in `make check`).
. "$(dirname "$0")/lib.sh"
found=0
for bin in "$PM_BIN"/fuzz/replay_fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/replay_}
	dir="$PM_TOP/fuzz/corpus/$name"
	[ -d "$dir" ] || continue
	found=1
	out=$(find "$dir" -type f -print0 | xargs -0 "$bin" 2>&1 | tail -1)
	like "$out" '^replayed [0-9]+ inputs$' "corpus of $name replays cleanly"
done
[ $found = 1 ] || skip "no fuzz targets built"
done_testing
