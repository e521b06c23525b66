#!/bin/sh
# Timer processing at scale: BENCH_TICKETS open tickets (default 100,000)
# with their response-goal and escalation timers, then
#   - one scheduler pass ("ticketctl tick --now T") at the time when 1% of
#     the timers are due, one when none is due yet, and the same 1% time
#     again (everything due has fired): each a whole ticketctl run, wall
#     time; target under 1 second;
#   - the daemon's CPU while idle on that database: utime + stime of the
#     process from /proc/PID/stat over BENCH_IDLE seconds (default 30),
#     after its outbox has drained, and over as many seconds after that
#     (the first window holds the statistics' one read of the database
#     after the drain's last commit); target near zero.
#
# The database: the daemon creates the schema and writes three real
# tickets (Severity 1, 2 and 3); their rows are the model for the bulk
# rows, written with python3's sqlite3 while the daemon is stopped: the
# same columns and values, one "created", "severity" and "stage" event per
# ticket, and the timers the daemon sets for a new ticket (response warning
# and breach; a stage timer for Severity 1 and 2). The mix is 20% Severity
# 1, 30% Severity 2, 50% Severity 3, opened within the last part of their
# response goal so that every timer is still in the future for the real
# clock (the deadlines are counted in real time here: the scheduler only
# compares the stored UTC times). The notices a pass fires go through the
# private Postfix to the sink.
set -u
. tests/e2e/lib.sh
TICKETS=${BENCH_TICKETS:-100000}
IDLE=${BENCH_IDLE:-30}
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[escalation]
stage1 = lead@example.com
stage2 = am@example.com; ops@example.com
stage3 = director@example.com'

e2e_setup >/dev/null || { echo "# private Postfix with the milter did not start"; exit 1; }
for m in sev1-outage sev2-degraded new-outage; do
    send_mail "$F/$m.eml" || { echo "# $m.eml was not accepted"; exit 1; }
done
milter_stop

# ---- the bulk rows ----
python3 - "$DB" "$TICKETS" <<'PY' || exit 1
import datetime as dt, random, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
con.row_factory = sqlite3.Row
model = {r["severity"]: dict(r) for r in con.execute("SELECT * FROM tickets")}
assert sorted(model) == [1, 2, 3], "the model tickets are missing"
random.seed(42)
base = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
# severity: (share, response goal, warning at, update interval, stage timer after)
plan = {1: (0.2, H, 0.75 * H, 4 * H, D),
        2: (0.3, 2 * H, 1.5 * H, D, 2 * D),
        3: (0.5, 3 * D, 2.25 * D, None, None)}
cols = [c for c in model[1] if c != "id"]
t0 = time.time()
con.execute("BEGIN")
next_id = con.execute("SELECT max(id) FROM tickets").fetchone()[0] + 1
tickets, timers, events = [], [], []
for i in range(n):
    x = random.random()
    sev = 1 if x < 0.2 else 2 if x < 0.5 else 3
    share, goal, warn, update, stage_after = plan[sev]
    # Opened at most 80% of the warning time ago: the warning is ahead.
    created = base - dt.timedelta(seconds=int(random.random() * 0.8 * warn.total_seconds()))
    row = dict(model[sev])
    row.update(id=next_id + i, requester="user%d@acme.test" % i,
               subject="%s (bench %d)" % (model[sev]["subject"], i),
               created_at=iso(created), updated_at=iso(created),
               first_response_due=iso(created + goal),
               next_update_due=iso(created + update) if update else None)
    tickets.append(row)
    tid = next_id + i
    timers.append((tid, "response-warning", iso(created + warn)))
    timers.append((tid, "response-breach", iso(created + goal)))
    if stage_after:
        timers.append((tid, "stage", iso(created + stage_after)))
    events.append((tid, iso(created), "created", row["requester"],
                   '{"requester":"%s","customer":"acme","reason":"new message from a customer"}'
                   % row["requester"]))
    events.append((tid, iso(created), "severity", None,
                   '{"severity":"%d","rule":"plan default"}' % sev))
    if row["stage"] > 0:
        events.append((tid, iso(created), "stage", None,
                       '{"stage":"%d","reason":"automatic for this severity"}' % row["stage"]))
con.executemany("INSERT INTO tickets (id, %s) VALUES (:id, %s)"
                % (", ".join(cols), ", ".join(":" + c for c in cols)), tickets)
con.executemany("INSERT INTO timers (ticket_id, kind, due_at) VALUES (?, ?, ?)", timers)
con.executemany("INSERT INTO events (ticket_id, at, type, actor, detail) VALUES (?, ?, ?, ?, ?)",
                events)
# Indexed for search as the daemon would have by now (schema 10 on).
if con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'fts_indexed'").fetchone()[0]:
    last = con.execute("SELECT last_id FROM fts_indexed WHERE name = 'tickets'").fetchone()[0]
    con.execute("INSERT INTO tickets_fts (rowid, subject) SELECT id, subject FROM tickets"
                " WHERE id > ?", (last,))
    con.execute("UPDATE fts_indexed SET last_id = (SELECT max(id) FROM tickets)"
                " WHERE name = 'tickets'")
con.commit()
con.execute("ANALYZE")
con.close()
print("# wrote %d tickets, %d timers, %d events in %.1f s"
      % (n, len(timers), len(events), time.time() - t0))
PY

timers=$(sql "SELECT count(*) FROM timers WHERE fired_at IS NULL")
open_tickets=$(sql "SELECT count(*) FROM tickets WHERE status = 'open'")
one_pct=$((timers / 100))
t_one=$(sql "SELECT due_at FROM timers WHERE fired_at IS NULL ORDER BY due_at LIMIT 1 OFFSET $((one_pct - 1))")
t_none=$(python3 -c 'import sys, datetime as d
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") - d.timedelta(seconds=1)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$(sql "SELECT min(due_at) FROM timers WHERE fired_at IS NULL")")
echo "# $open_tickets open tickets, $timers timers not fired; $(du -h "$DB" | cut -f1) database"

# pass NAME TIME: one timed "ticketctl tick --now TIME"; appends to $PASSES.
PASSES=$E2E_DIR/passes
pass() {
    s=$(date +%s.%N)
    out=$(tctl tick --now "$2" 2>&1)
    rc=$?
    e=$(date +%s.%N)
    secs=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$s" "$e")
    echo "$1 $secs $rc $out" >>"$PASSES"
    echo "# pass $1: ${secs} s, exit $rc: $out"
}
pass none "$t_none"
pass one_percent "$t_one"
pass again "$t_one"
queued=$(sql "SELECT count(*) FROM outbox WHERE status = 'pending'")
echo "# the 1% pass queued $queued notices"

# ---- the daemon, idle ----
milter_start || exit 1
pending() { sql "SELECT count(*) FROM outbox WHERE status = 'pending'"; }
drained() { [ "$(pending)" = 0 ] && echo 1 || echo 0; }
wait_for 1 300 drained || echo "# the outbox did not drain in 5 minutes: $(pending) pending"
sleep 5
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat"; }
switches() { cat /proc/"$MILTER_PID"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n }'; }
c0=$(cpu_ticks)
w0=$(switches)
threads=$(ls /proc/"$MILTER_PID"/task | wc -l)
sleep "$IDLE"
c1=$(cpu_ticks)
w1=$(switches)
# A second window of the same length: the first holds the statistics'
# one read of the database after the drain's last commit (every open
# ticket, for the overdue gauge); from then on nothing has changed.
sleep "$IDLE"
c2=$(cpu_ticks)
w2=$(switches)
fired_idle=$(sql "SELECT count(*) FROM timers WHERE fired_at IS NOT NULL")

python3 - "$PASSES" "$open_tickets" "$timers" "$((c1 - c0))" "$(getconf CLK_TCK)" "$IDLE" \
    "$((w1 - w0))" "$threads" "$queued" "$((c2 - c1))" "$((w2 - w1))" <<'PY'
import sys
passes = {}
for line in open(sys.argv[1]):
    name, secs, rc, out = line.split(" ", 3)
    passes[name] = (float(secs), int(rc), out.strip())
tickets, timers, ticks, hz, idle, switches, threads, queued, ticks2, switches2 = (
    int(x) for x in sys.argv[2:12])
cpu = ticks / hz
for name in ("none", "one_percent", "again"):
    secs, rc, out = passes[name]
    print("pass %-11s %.3f s  exit %d  %s" % (name, secs, rc, out))
print("daemon idle: %d threads, %.2f CPU s in %d s, %d context switches (%.1f/s)"
      % (threads, cpu, idle, switches, switches / idle))
slowest = max(passes[k][0] for k in passes)
ok = all(passes[k][1] == 0 for k in passes) and slowest < 1.0
print("RESULT scheduler-pass: %d open tickets, %d timers; 1%% due: %.3f s, none due: %.3f s,"
      " all due already fired: %.3f s (target < 1 s) %s"
      % (tickets, timers, passes["one_percent"][0], passes["none"][0], passes["again"][0],
         "ok" if ok else "MISS"))
print("RESULT scheduler-idle: daemon CPU %.3f s per minute over %d s idle (%d clock ticks),"
      " %.1f wakeups/s (target near zero) %s"
      % (cpu * 60 / idle, idle, ticks, switches / idle, "ok" if cpu * 60 / idle < 0.6 else "MISS"))
cpu2 = ticks2 / hz
print("RESULT scheduler-idle-after: daemon CPU %.3f s per minute over the next %d s (%d clock"
      " ticks), %.1f wakeups/s (target near zero) %s"
      % (cpu2 * 60 / idle, idle, ticks2, switches2 / idle, "ok" if cpu2 * 60 / idle < 0.6 else "MISS"))
PY
