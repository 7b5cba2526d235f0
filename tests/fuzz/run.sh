#!/bin/sh
# run.sh: build the libFuzzer targets with clang (ASan+UBSan) and run each
# for a short, bounded time (FUZZ_SECONDS, default 20). Crashes fail the run.
# tests/fuzz/seeds/<target>/ holds inputs that once crashed a target: each
# run starts from them, so a regression fails at once.
set -e
cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
OUT=build/fuzz
mkdir -p $OUT
SRCS=$(ls src/base/*.c src/proto/*.c src/tree/*.c src/auth/*.c src/txn/*.c)
FLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
for t in fuzz_request fuzz_txn; do
    clang $FLAGS -o $OUT/$t tests/fuzz/$t.c $SRCS -lcrypto -lz
    mkdir -p $OUT/corpus_$t
    echo "== fuzzing $t for ${SECONDS_EACH}s"
    $OUT/$t -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=0 \
        $OUT/corpus_$t tests/fuzz/seeds/$t >$OUT/$t.log 2>&1 || { tail -50 $OUT/$t.log; exit 1; }
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" $OUT/$t.log | tail -1 || true
done
