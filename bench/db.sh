#!/bin/sh
# The cost of one statement through store/db.h on each backend, without
# Postfix: bench/db-cost.c, linked with the built library, runs 100,000
# INSERTs, 100,000 SELECTs by key and 100,000 key locks (store_lock_key,
# which ack_limit's count takes) in transactions of 1,000, on a SQLite
# file and on a private PostgreSQL cluster over its unix socket
# (tests/pg-cluster; skipped, and said, where no server is installed).
# Then the cost of the dispatcher's claim of a batch of due outbox rows
# (bench/claim-cost.c: store_outbox_claim in a write transaction of its
# own, against the plain read of the same rows it replaced), DB_CLAIMS (200)
# claims for each batch size in DB_CLAIM_BATCHES ("1 4 16 64"; the
# dispatcher's is 16), on each backend.
#   bench/db.sh [N [BATCH]]
# Prints a RESULT line per backend in microseconds per statement, and one
# per backend for the claims: the dispatcher's batch, and what each row
# more adds (the slope from the smallest batch to the largest).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
N=${1:-100000}
BATCH=${2:-1000}
CLAIMS=${DB_CLAIMS:-200}
CLAIM_BATCHES=${DB_CLAIM_BATCHES:-1 4 16 64}
WORK=$(mktemp -d /tmp/tm-bench-db.XXXXXX)
PG_DIR=
cleanup() {
    [ -n "$PG_DIR" ] && tests/pg-cluster stop "$PG_DIR" >/dev/null 2>&1
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$BUILD/libticket.a" ] || make -s BUILD="$BUILD" "$BUILD/libticket.a" || exit 1
# The Makefile's PKGS, continuation lines and all.
PKGS=$(awk '/^PKGS *:=/ { on = 1; sub(/^PKGS *:= */, "") }
            on { more = sub(/\\$/, ""); printf "%s ", $0; if (!more) exit }' Makefile)
# shellcheck disable=SC2086
cc -std=c11 -O2 -g -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) -o "$WORK/db-cost" \
    bench/db-cost.c "$BUILD/libticket.a" $(pkg-config --libs $PKGS) -lpthread || exit 1
# shellcheck disable=SC2086
cc -std=c11 -O2 -g -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) -o "$WORK/claim-cost" \
    bench/claim-cost.c "$BUILD/libticket.a" $(pkg-config --libs $PKGS) -lpthread || exit 1

result() {
    awk -v name="$1" '
        $1 == "TIME" { t[$2] = $3 }
        END { printf "RESULT db %s: insert %s us, select by key %s us, key lock %s us per statement\n",
                     name, t["insert"], t["select"], t["lock"] }' "$WORK/out"
}

# claims NAME TARGET: claim-cost for each batch size, a table and
# a RESULT line.  Each batch size on a new file or database: the rows an
# earlier one claimed and sent would be in the way of the next (on
# PostgreSQL their dead index entries stay until a vacuum).
claims() {
    : >"$WORK/claims"
    for b in $CLAIM_BATCHES; do
        case $1 in
        sqlite) t=$WORK/claim-$b.db ;;
        *)
            psql -X -q -v ON_ERROR_STOP=1 -d "$2" -c "CREATE DATABASE claim_$b" || return 1
            t=$(echo "$2" | sed "s|^postgresql:///[^?]*|postgresql:///claim_$b|")
            ;;
        esac
        "$WORK/claim-cost" "$t" "$CLAIMS" "$b" >>"$WORK/claims" || return 1
    done
    awk -v name="$1" -v claims="$CLAIMS" '
        $1 == "CLAIM" { n++; b[n] = $2; tx[n] = $3; st[n] = $4; rd[n] = $5; mk[n] = $6 }
        END {
            printf "# claims on %s, %d each, microseconds a batch:\n", name, claims
            printf "#   %5s %12s %9s %10s %15s %13s\n", "batch", "transaction", "a row",
                   "statement", "read (before)", "marking sent"
            for (i = 1; i <= n; i++) {
                printf "#   %5d %12.1f %9.1f %10.1f %15.1f %13.1f\n", b[i], tx[i], tx[i] / b[i],
                       st[i], rd[i], mk[i]
                if (b[i] == 16)
                    d = i
            }
            if (!d)
                d = n
            printf "RESULT db-claim %s: a claim of %d rows in its own transaction %.0f us (%.1f us a row;" \
                   " the statement %.0f us, the read before claims %.0f us), marking them sent %.0f us", \
                   name, b[d], tx[d], tx[d] / b[d], st[d], rd[d], mk[d]
            if (n > 1 && b[n] > b[1])
                printf "; each row more %.1f us to claim, %.1f us to read", (tx[n] - tx[1]) / (b[n] - b[1]),
                       (rd[n] - rd[1]) / (b[n] - b[1])
            printf "\n"
        }' "$WORK/claims"
}

status=0
if "$WORK/db-cost" "$WORK/bench.db" "$N" "$BATCH" >"$WORK/out"; then
    result sqlite
else
    status=1
fi
claims sqlite - || status=1

PG_DIR=$(mktemp -d /tmp/tm-pg.XXXXXX)
uri=$(tests/pg-cluster start "$PG_DIR" 2>"$WORK/pg.log")
case $? in
0)
    if "$WORK/db-cost" "$uri" "$N" "$BATCH" >"$WORK/out"; then
        result postgresql
    else
        status=1
    fi
    claims postgresql "$uri" || status=1
    ;;
2) echo "RESULT db postgresql: skipped (no PostgreSQL server installed)" ;;
*) cat "$WORK/pg.log" >&2; status=1 ;;
esac
exit $status
