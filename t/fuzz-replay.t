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
	found=$((found + 1))
	n=$(find "$dir" -type f | wc -l)
	out=$(find "$dir" -type f -print0 | xargs -0 "$bin" 2>&1)
	ok $? "corpus of $name replays without a crash"
	is "$(printf '%s\n' "$out" | tail -1)" "replayed $n inputs" "every input of $name was run"
done
want=$(ls "$PM_TOP"/fuzz/fuzz_*.c | wc -l)
is "$found" "$want" "every fuzz target has a replay binary and a corpus"
done_testing
