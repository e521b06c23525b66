#!/bin/sh
# The time the milter adds to an SMTP transaction, as the sending client
# sees it: connect, HELO, MAIL, RCPT, DATA, the message and its final dot,
# until the 250 (bench/smtp-load.c), for Postfix alone and with
# ticket-milter on each socket type of BENCH_SOCKETS ("unix inet").
#
#   one session   BENCH_ONE (300) messages one after the other
#   20 sessions   BENCH_MANY (1000) messages in 20 parallel sessions, started
#                 at BENCH_RATE (100) per second in all: a busy server, but
#                 below what every configuration can take, so that the
#                 figure is the time added to each message, not a queue
#
# Every message is a new ticket of its own sender with its
# acknowledgement (sent to the sink directly).  BENCH_ROUNDS (3) rounds run
# every configuration once, in an order that turns from round to round;
# each round gives p50 and p99, and the time added is ticket-milter's
# figure minus Postfix alone's of the same round.  Medians over the
# rounds, and every round, are printed.
#
# With BENCH_BEFORE=DIR, ticket-milter as built in DIR (an older build) runs
# in the same rounds too, as before-SOCK.
#
# Target (issue 13): p50 <= 5 ms and p99 <= 20 ms added, one session and
# 20 sessions, unix and inet.
set -u
. tests/e2e/lib.sh
ONE=${BENCH_ONE:-300}
MANY=${BENCH_MANY:-1000}
RATE=${BENCH_RATE:-100}
ROUNDS=${BENCH_ROUNDS:-3}
SOCKETS=${BENCH_SOCKETS:-unix inet}
SIZE=${BENCH_SIZE:-2048}
RES=$(mktemp /tmp/tm-latency.XXXXXX)
TOOLS=$(mktemp -d /tmp/tm-latency-tools.XXXXXX)
trap 'rm -rf "$RES" "$TOOLS"' EXIT

cc -O2 -o "$TOOLS/smtp-load" bench/smtp-load.c -lpthread ||
    { echo "# cannot build bench/smtp-load.c"; exit 1; }

CONFIGS=alone
for sock in $SOCKETS; do
    CONFIGS="$CONFIGS tm-$sock"
    [ -n "${BENCH_BEFORE:-}" ] && CONFIGS="$CONFIGS before-$sock"
done

# run CONFIG ROUND: both loads on a Postfix of its own; lines for $RES.
run() {
    cfg=$1
    round=$2
    sock=${cfg#*-}
    tag="l$round${cfg%%-*}$$"
    (
        E2E_RELAY=sink
        E2E_SINK=one
        if [ "$cfg" = alone ]; then
            E2E_NO_MILTER=1
        else
            E2E_SOCKET=$sock
        fi
        case $cfg in before-*) BUILD=$BENCH_BEFORE ;; esac
        e2e_setup >/dev/null || { echo "# $cfg: the private Postfix did not start"; exit 1; }
        "$TOOLS/smtp-load" -s 4 -m 40 -l "$SIZE" -x "w$tag$sock" "127.0.0.1:$SMTP_PORT" >/dev/null 2>&1
        sleep 1
        for mode in one many; do
            if [ "$mode" = one ]; then
                args="-s 1 -m $ONE"
            else
                args="-s 20 -m $MANY -r $RATE"
            fi
            # shellcheck disable=SC2086
            "$TOOLS/smtp-load" $args -l "$SIZE" -x "$tag$mode$sock" "127.0.0.1:$SMTP_PORT" \
                >"$E2E_DIR/load.out" 2>"$E2E_DIR/load.err"
            echo "cfg=$cfg mode=$mode round=$round $(awk '{ printf "%s=%s ", $1, $2 }' "$E2E_DIR/load.out")"
            sed 's/^/# smtp-load: /' "$E2E_DIR/load.err" | head -n 3
            # The next load starts with the acknowledgements of this one out.
            [ "$cfg" = alone ] || wait_for 1 60 sh -c "[ \"\$(sqlite3 -readonly '$DB' \"SELECT count(*) FROM outbox WHERE status = 'pending'\")\" = 0 ] && echo 1"
            sleep 1
        done
    )
}

echo "# one session: $ONE messages; 20 sessions: $MANY messages at $RATE/s;" \
    "$ROUNDS rounds on $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg) at the start," \
    "the CPUs $(machine_busy 5)% busy with other work over 5 s"
# shellcheck disable=SC2086
bench_rounds "$ROUNDS" "$RES" $CONFIGS
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at the end, the CPUs $(machine_busy 5)% busy with other work"

python3 - "$RES" "$SOCKETS" <<'PY'
import statistics, sys
res, sockets = sys.argv[1], sys.argv[2].split()
runs = {}
for line in open(res):
    d = dict(kv.split("=", 1) for kv in line.split())
    runs[(d["cfg"], d["mode"], d["round"])] = d
rounds = sorted({k[2] for k in runs}, key=int)
failed = [k for k, d in runs.items() if d.get("errors") != "0"]
names = {"one": "one session", "many": "20 sessions"}
ok = not failed
print("%-9s %-12s %10s %-26s %10s %-26s" % ("", "", "p50 ms", "rounds", "p99 ms", "rounds"))
for mode in ("one", "many"):
    for cfg in ["alone"] + [k + s for s in sockets for k in ("before-", "tm-")]:
        p50 = [float(runs[(cfg, mode, r)]["p50_ms"]) for r in rounds if (cfg, mode, r) in runs]
        p99 = [float(runs[(cfg, mode, r)]["p99_ms"]) for r in rounds if (cfg, mode, r) in runs]
        if p50:
            print("%-9s %-12s %10.2f %-26s %10.2f %-26s" % (
                cfg, names[mode], statistics.median(p50), " ".join("%.2f" % x for x in p50),
                statistics.median(p99), " ".join("%.2f" % x for x in p99)))
for mode in ("one", "many"):
    for s, cfg in [(s, k + s) for s in sockets for k in ("before-", "tm-")]:
        add50, add99 = [], []
        for r in rounds:
            if (cfg, mode, r) in runs and ("alone", mode, r) in runs:
                a, t = runs[("alone", mode, r)], runs[(cfg, mode, r)]
                add50.append(float(t["p50_ms"]) - float(a["p50_ms"]))
                add99.append(float(t["p99_ms"]) - float(a["p99_ms"]))
        if not add50:
            continue
        m50, m99 = statistics.median(add50), statistics.median(add99)
        good = m50 <= 5 and m99 <= 20
        before = cfg.startswith("before-")
        if not before:
            ok = ok and good
        print("RESULT latency-%s%s-%s: added by %s p50 %.2f ms (rounds %s), p99 %.2f ms (rounds %s);"
              " target p50 <= 5, p99 <= 20: %s" % (
                  "before-" if before else "", s, "1" if mode == "one" else "20",
                  "the older build" if before else "ticket-milter", m50,
                  " ".join("%.2f" % x for x in add50), m99, " ".join("%.2f" % x for x in add99),
                  "ok" if good else "MISS"))
for k in failed:
    print("# errors in %s %s round %s" % k)
sys.exit(0 if not failed else 1)
PY
