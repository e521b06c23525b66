#!/bin/sh
# A short libFuzzer run of the parser (about 60 s, FUZZ_SECONDS to change)
# over the fixture corpus, in a copy of it so that new inputs stay out of
# the tree. Fails on any crash, sanitizer report, leak, broken promise of
# mail.h (the target aborts) or an input that takes a second under the
# sanitizers.  The corpus the run ends with is kept in BUILD/fuzz/corpus:
# bench/parser.sh times every input of it against the 100 ms target (a
# time is a benchmark's to judge, not a test's: it depends on the load of
# the machine).
# The mutations follow a fixed seed (FUZZ_SEED, default 1) so that a run of
# make check does not fail by luck; longer runs with other seeds are how new
# bugs are found (see ticket-milter(8)), and what they find goes into
# tests/fixtures/fuzz.
# Needs clang with libFuzzer; says so and skips without it.
set -u
. tests/e2e/lib.sh
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
LIMIT_MS=100

if ! command -v clang >/dev/null 2>&1; then
    echo "ok 1 # SKIP no clang for libFuzzer"
    done_testing
    exit 0
fi
WORK=$(mktemp -d /tmp/tm-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus" "$WORK/artifacts"
cp tests/fixtures/parser/*.eml "$WORK/corpus/"
# Staff replies in the shapes mail clients send: the seeds for the command
# lines' removal from plain text and HTML.
for f in tests/fixtures/staff-html/*.eml; do cp "$f" "$WORK/corpus/staff-${f##*/}"; done
# Inputs that once broke the parser start every run, so they stay fixed.
cp tests/fixtures/fuzz/* "$WORK/corpus/"

make -s fuzz BUILD="$BUILD" >"$WORK/build.log" 2>&1
ok $? "make fuzz builds the libFuzzer target"
[ -x "$BUILD/fuzz/fuzz-parser" ] || { sed 's/^/# /' "$WORK/build.log" | tail -n 20; done_testing; exit 1; }

"$BUILD/fuzz/fuzz-parser" -max_total_time="$SECONDS_TO_RUN" -timeout=1 -rss_limit_mb=2048 \
    -seed="${FUZZ_SEED:-1}" \
    -max_len=131072 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/" \
    "$WORK/corpus" >"$WORK/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/fuzz.log")
echo "# libFuzzer: ${execs:-?} inputs in ${SECONDS_TO_RUN} s, exit $rc"
ok "$rc" "no crash, leak, sanitizer report or 1 s timeout in ${execs:-?} inputs"
if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|Test unit written|timeout' "$WORK/fuzz.log" | head -n 20 | sed 's/^/#   /'
    mkdir -p "$BUILD/fuzz/artifacts" && cp "$WORK"/artifacts/* "$BUILD/fuzz/artifacts/" 2>/dev/null
    echo "#   inputs kept in $BUILD/fuzz/artifacts"
fi

# Every input of the corpus the run ended with, without sanitizers: read
# to its end (the time is the bench's).
rm -rf "$BUILD/fuzz/corpus" && cp -r "$WORK/corpus" "$BUILD/fuzz/corpus"
ok $? "the final corpus is kept in $BUILD/fuzz/corpus for bench/parser.sh"
TIMER=$WORK/parser-time
cc -std=c11 -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags gmime-3.0 glib-2.0 libxml-2.0) -o "$TIMER" \
    fuzz/parser-time.c parser/*.c util/lines.c $(pkg-config --libs gmime-3.0 glib-2.0 libxml-2.0) 2>"$WORK/cc.log"
ok $? "parser-time builds"
find "$WORK/corpus" -type f -print0 | xargs -0 "$TIMER" -n 1 >"$WORK/times" 2>&1
ok $? "parser-time read every input of the corpus"
n=$(grep -c '^TIME ' "$WORK/times")
echo "# slowest of $n inputs here (not judged; see bench/parser.sh): $(grep '^TIME ' "$WORK/times" | sort -k2 -g | tail -n 1)"
done_testing
