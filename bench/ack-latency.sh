#!/bin/sh
# Time from the milter's commit to the relay's acceptance of the
# acknowledgement, over BENCH_N new tickets (default 1000) sent through the
# private Postfix in BENCH_SESSIONS parallel SMTP sessions (default 8).
#
# Each message comes from its own address at a known customer's domain
# (so that no acknowledgement is held back by ack_limit, which counts per
# recipient) and has its own Message-ID. When every message has its 250,
# the outbox is awaited until no ack is pending; then the latencies come
# from the outbox rows of template 'ack-new': queued_us is set when the row
# is written in the ticket's transaction, sent_us when the relay accepted
# it (both microseconds since the epoch).
# Target (the acknowledgements issue): p99 under 1 second.
set -u
. tests/e2e/lib.sh
N=${BENCH_N:-1000}
S=${BENCH_SESSIONS:-8}

e2e_setup >/dev/null || { echo "# private Postfix with the milter did not start"; exit 1; }

t0=$(date +%s.%N)
python3 - "$SMTP_PORT" "$N" "$S" >"$E2E_DIR/load.out" 2>&1 <<'PY'
import smtplib, sys, threading, time
from email.utils import formatdate

port, n, sessions = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
errors = []

def session(k):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    for i in range(k, n, sessions):
        sender = "user%d@acme.test" % i
        msg = ("From: Customer %d <%s>\r\nTo: support@example.com\r\n"
               "Subject: Bench ticket %d: the report page is slow\r\n"
               "Message-ID: <ack-bench-%d.%d@acme.test>\r\nDate: %s\r\n\r\n"
               "Since this morning the report page takes a minute to load.\r\n"
               % (i, sender, i, i, int(time.time()), formatdate()))
        try:
            s.sendmail(sender, ["support@example.com"], msg)
        except smtplib.SMTPException as e:
            errors.append("%d: %s" % (i, e))
            s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.quit()

threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for e in errors[:5]:
    print("error", e)
print("errors", len(errors))
PY
t1=$(date +%s.%N)
errors=$(sed -n 's/^errors //p' "$E2E_DIR/load.out")
sed -n 's/^error /# smtp: /p' "$E2E_DIR/load.out"

acks_done() {
    sql "SELECT count(*) FROM outbox WHERE template = 'ack-new' AND status != 'pending'"
}
tickets=$(sql "SELECT count(*) FROM tickets")
wait_for "$tickets" 300 acks_done || echo "# the outbox did not drain within 5 minutes"
t2=$(date +%s.%N)

python3 - "$DB" "$N" "$S" "$t0" "$t1" "$t2" "${errors:-?}" <<'PY'
import sqlite3, sys
db, n, sessions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2 = (float(x) for x in sys.argv[4:7])
errors = sys.argv[7]
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
tickets = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
rows = con.execute("SELECT status, count(*) FROM outbox WHERE template = 'ack-new'"
                   " GROUP BY status").fetchall()
lat = sorted((s - q) / 1000.0 for q, s in con.execute(
    "SELECT queued_us, sent_us FROM outbox WHERE template = 'ack-new' AND status = 'sent'"
    " AND queued_us IS NOT NULL AND sent_us IS NOT NULL"))
attempts = con.execute("SELECT max(attempts) FROM outbox WHERE template = 'ack-new'").fetchone()[0]

def pct(p):
    if not lat:
        return float("nan")
    return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]

print("messages: %d in %d SMTP sessions, each from its own address; send errors: %s"
      % (n, sessions, errors))
print("tickets: %d; ack-new rows by status: %s; most attempts for one ack: %s"
      % (tickets, ", ".join("%s %d" % r for r in rows) or "none", attempts))
print("sending took %.1f s (%.0f msg/s); the outbox drained %.1f s after the last 250"
      % (t1 - t0, n / (t1 - t0), t2 - t1))
if lat:
    print("commit-to-relay latency (ms): min %.1f, p50 %.1f, p90 %.1f, p99 %.1f, max %.1f, mean %.1f"
          % (lat[0], pct(50), pct(90), pct(99), lat[-1], sum(lat) / len(lat)))
verdict = "ok" if lat and len(lat) == n and pct(99) < 1000 else "MISS"
if len(lat) != n:
    verdict = "MISMATCH"
print("RESULT ack-latency: %d acks, p50 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 < 1000 ms) %s"
      % (len(lat), pct(50), pct(99), lat[-1] if lat else float("nan"), verdict))
PY
