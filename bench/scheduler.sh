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
#
# BENCH_DATABASE=pg: the same rows on PostgreSQL, to weigh what the
# timers' lock costs when two MX hosts share the database (store/timers.c:
# a pass takes its due timers FOR UPDATE SKIP LOCKED, and the other host's
# passes skip them).  A private cluster (tests/pg-cluster) is started once
# and stopped by its pid at the end, with a fresh database in it for every
# run.  BENCH_DUE (default 5000) of the BENCH_TICKETS (default 20,000
# here) tickets have their response warning moved to one moment a few
# seconds ahead (LEAD), and the daemons, started before and asleep until
# then, fire them all at once.  Two configurations, in BENCH_ROUNDS
# (default 3) rounds that take turns as in bench/throughput.sh:
#   one   one daemon
#   two   two daemons on the database (tests/e2e/lib.sh's second host)
# Reported for each: timers fired per second (BENCH_DUE over the seconds
# from the moment they fell due to the last notice they queued, by the
# outbox's queued_us), when the first notice came, how the daemons shared
# the work (their logs), and the daemons' CPU and the PostgreSQL server's
# over the firing, per timer; and the check that each due timer fired
# once: all of them fired, one sla-warning event for each of their
# tickets and the same number of notices for each, no other timer fired.
# The notices go to the sink directly (E2E_RELAY=sink): the Postfix they
# would pass through is not what is measured.  The passes and the idle
# daemon above are SQLite's only.
set -u
. tests/e2e/lib.sh
DATABASE=${BENCH_DATABASE:-sqlite}
case $DATABASE in
sqlite) TICKETS=${BENCH_TICKETS:-100000} ;;
pg) TICKETS=${BENCH_TICKETS:-20000} ;;
*) echo "# BENCH_DATABASE: sqlite or pg, not $DATABASE"; exit 1 ;;
esac
IDLE=${BENCH_IDLE:-30}
DUE=${BENCH_DUE:-5000}
ROUNDS=${BENCH_ROUNDS:-3}
LEAD=8
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[escalation]
stage1 = lead@example.com
stage2 = am@example.com; ops@example.com
stage3 = director@example.com'

# model_tickets: a private Postfix whose daemon wrote the three real
# tickets the bulk rows copy; the daemon stopped.
model_tickets() {
    e2e_setup >/dev/null || { echo "# private Postfix with the milter did not start"; return 1; }
    for m in sev1-outage sev2-degraded new-outage; do
        send_mail "$F/$m.eml" || { echo "# $m.eml was not accepted"; return 1; }
    done
    milter_stop
}

# bulk_rows DUE: the bulk rows in $DB, the daemon stopped; the response
# warnings of the first DUE tickets are due at "bench-due", a time after
# every other until it is set to one.
bulk_rows() {
    python3 - "$DATABASE" "$DB" "$TICKETS" "$1" <<'PY'
import datetime as dt, json, random, sqlite3, subprocess, sys, time
backend, db, n, due = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def psql(args, script=None):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db] + args,
                          input=script, stdout=subprocess.PIPE, text=True, check=True).stdout

if backend == "pg":
    rows = json.loads(psql(["-A", "-t", "-c", "SELECT json_agg(t) FROM tickets t"]))
    # search is a generated column: the server writes it.
    model = {r["severity"]: {k: v for k, v in r.items() if k != "search"} for r in rows}
else:
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
if backend == "pg":
    next_id = max(r["id"] for r in rows) + 1
else:
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
    timers.append((tid, "response-warning", "bench-due" if i < due else iso(created + warn)))
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
if backend == "pg":
    # COPY's text form: \N is NULL; backslashes, tabs and line ends escaped.
    def field(v):
        if v is None:
            return "\\N"
        return (str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))

    def copy(table, names, rows):
        return "COPY %s (%s) FROM STDIN;\n%s\\.\n" % (
            table, ", ".join(names), "".join("\t".join(field(v) for v in r) + "\n" for r in rows))

    psql([], "BEGIN;\n"
         + copy("tickets", ["id"] + cols, ([t["id"]] + [t[c] for c in cols] for t in tickets))
         + copy("timers", ["ticket_id", "kind", "due_at"], timers)
         + copy("events", ["ticket_id", "at", "type", "actor", "detail"], events)
         # The ids were ours: the daemon's next ticket comes after them.
         + "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets));\n"
         + "COMMIT;\nANALYZE;\n")
else:
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
}

# ---- PostgreSQL: one daemon and two firing the same due timers ----

# run CONFIG ROUND (bench_rounds): CONFIG "one" or "two" daemons on a
# database of their own; a "cfg=" line of key=value, or "#" lines.
run() {
    (
        E2E_DATABASE=pg
        E2E_RELAY=sink
        model_tickets || exit 1
        bulk_rows "$DUE" >"$E2E_DIR/bulk.out" ||
            { echo "# $1: the bulk rows were not written"; cat "$E2E_DIR/bulk.out"; exit 1; }
        cat "$E2E_DIR/bulk.out"
        at_epoch=$(($(date +%s) + LEAD))
        at=$(date -u -d "@$at_epoch" +%Y-%m-%dT%H:%M:%SZ)
        db_exec "UPDATE timers SET due_at = '$at' WHERE due_at = 'bench-due'" || exit 1
        milter_start >/dev/null || { echo "# $1: the daemon did not start"; exit 1; }
        if [ "$1" = two ]; then
            e2e_second_host >/dev/null || { echo "# $1: the second host did not start"; exit 1; }
        fi
        late=$(python3 -c 'import sys, time; print(int(time.time() > int(sys.argv[1]) - 0.5))' "$at_epoch")
        daemon_ticks() {
            d_t=$(awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat")
            [ -n "${MILTER_PID_B:-}" ] &&
                d_t=$((d_t + $(awk '{ print $14 + $15 }' "/proc/$MILTER_PID_B/stat")))
            echo "$d_t"
        }
        # Half a second before they fall due: what the daemons and the
        # server did until then (starting, the model tickets' mail) is not
        # counted.
        python3 -c 'import sys, time; time.sleep(max(0, int(sys.argv[1]) - 0.5 - time.time()))' "$at_epoch"
        c0=$(daemon_ticks)
        pg_cpu_snapshot "$E2E_DIR/pg-cpu.0"
        # Their logs are watched, not the database: every look at it would
        # be work for the server, counted with its CPU.
        logged() {
            # shellcheck disable=SC2086
            cat "$E2E_DIR/milter.log" ${B_DIR:+"$B_DIR/milter.log"} | grep -c 'timer=response-warning'
        }
        wait_for "$DUE" 600 logged || echo "# $1: $(logged) of $DUE timers fired in 10 minutes"
        fired() { sql "SELECT count(*) FROM timers WHERE due_at = '$at' AND fired_at IS NOT NULL"; }
        wait_for "$DUE" 60 fired
        c1=$(daemon_ticks)
        pg_cpu_snapshot "$E2E_DIR/pg-cpu.1"
        notices="FROM outbox WHERE kind = 'notice' AND created_at >= '$at'"
        split=$(grep -c 'timer=response-warning' "$E2E_DIR/milter.log")
        [ -n "${B_DIR:-}" ] && split="$split/$(grep -c 'timer=response-warning' "$B_DIR/milter.log")"
        echo "cfg=$1 round=$2 due=$DUE at=$at_epoch late=$late" \
            "first_us=$(sql "SELECT min(queued_us) $notices")" \
            "last_us=$(sql "SELECT max(queued_us) $notices")" \
            "fired=$(fired)" \
            "fired_other=$(sql "SELECT count(*) FROM timers WHERE due_at <> '$at' AND fired_at IS NOT NULL")" \
            "warnings=$(sql "SELECT count(*) FROM events WHERE type = 'sla-warning'")" \
            "warned=$(sql "SELECT count(DISTINCT ticket_id) FROM events WHERE type = 'sla-warning'")" \
            "$(sql "SELECT 'notices=' || coalesce(sum(n), 0) || ' noticed=' || count(*)
                    || ' notices_min=' || coalesce(min(n), 0) || ' notices_max=' || coalesce(max(n), 0)
                    FROM (SELECT count(*) AS n $notices GROUP BY ticket_id) x")" \
            "split=$split daemon_ticks=$((c1 - c0))" \
            "pg_ticks=$(pg_cpu_ticks "$E2E_DIR/pg-cpu.0" "$E2E_DIR/pg-cpu.1")"
    )
}

pg_main() {
    [ "$DUE" -ge 1 ] && [ "$DUE" -le "$TICKETS" ] ||
        { echo "# BENCH_DUE: 1 to BENCH_TICKETS ($TICKETS)"; return 1; }
    RES=$(mktemp /tmp/tm-bench-sched.XXXXXX)
    trap 'rm -f "$RES"; bench_pg_stop' EXIT
    trap 'exit 1' INT TERM
    bench_pg_start
    case $? in
    0) ;;
    2) echo "RESULT scheduler-postgresql: skipped (no PostgreSQL server installed)"; return 0 ;;
    *) echo "# the private PostgreSQL cluster did not start"; return 1 ;;
    esac
    echo "# $DUE timers due at once among $TICKETS tickets, $ROUNDS rounds, on $(nproc) CPUs;" \
        "load $(cut -d' ' -f1-3 /proc/loadavg) at the start, the CPUs $(machine_busy 5)% busy" \
        "with other work over 5 s"
    bench_rounds "$ROUNDS" "$RES" one two
    echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at the end, the CPUs $(machine_busy 5)% busy with" \
        "other work"
    python3 - "$RES" "$DUE" "$(getconf CLK_TCK)" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, "bench")
from rounds import load, median, num
res, due, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = load(res)

def seconds(d):
    return num(d, "last_us") / 1e6 - num(d, "at")

def rate(d):
    return due / seconds(d)

def first(d):
    return num(d, "first_us") / 1e6 - num(d, "at")

def ms(key):
    return lambda d: 1000.0 * num(d, key) / hz / due

def med(cfg, f):
    return median(f(d) for d in runs.get(cfg, []))

def rounds(cfg, f, fmt):
    return " ".join(fmt % f(d) for d in runs.get(cfg, []))

failed = []
for cfg, ds in sorted(runs.items()):
    for d in ds:
        counts = [int(d[k]) for k in ("fired", "warnings", "warned", "noticed")]
        if counts != [due] * 4 or int(d["fired_other"]) != 0 or d["notices_min"] != d["notices_max"] \
                or int(d["notices_min"]) < 1 or sum(int(x) for x in d["split"].split("/")) != due:
            failed.append("%s round %s: fired %s of %d (and %s others), sla-warning events %s on %s tickets,"
                          " notices on %s tickets (%s to %s each), fired per daemon %s"
                          % (cfg, d["round"], d["fired"], due, d["fired_other"], d["warnings"], d["warned"],
                             d["noticed"], d["notices_min"], d["notices_max"], d["split"]))
        if d["late"] != "0":
            failed.append("%s round %s: the daemons were not up before the timers fell due" % (cfg, d["round"]))

print("%-7s %9s  %-24s %8s  %-28s %-28s %s" % ("daemons", "timers/s", "rounds", "first s",
                                             "daemon CPU ms/timer (rounds)", "postgres ms/timer (rounds)",
                                             "fired per daemon"))
for cfg in ("one", "two"):
    if cfg not in runs:
        continue
    print("%-7s %9.0f  %-24s %8.2f  %-28s %-28s %s" % (
        cfg, med(cfg, rate), rounds(cfg, rate, "%.0f"), med(cfg, first),
        "%.3f (%s)" % (med(cfg, ms("daemon_ticks")), rounds(cfg, ms("daemon_ticks"), "%.3f")),
        "%.3f (%s)" % (med(cfg, ms("pg_ticks")), rounds(cfg, ms("pg_ticks"), "%.3f")),
        " ".join(d["split"] for d in runs[cfg])))
for f in failed:
    print("# check failed: " + f)
if "one" in runs and "two" in runs:
    print("RESULT scheduler-postgresql: %d timers due at once: one daemon %.0f timers/s, two daemons on the"
          " database %.0f (%.2fx); CPU per timer: one daemon %.3f ms + postgres %.3f, two daemons %.3f +"
          " postgres %.3f; each timer fired once: %s" % (
              due, med("one", rate), med("two", rate), med("two", rate) / med("one", rate),
              med("one", ms("daemon_ticks")), med("one", ms("pg_ticks")),
              med("two", ms("daemon_ticks")), med("two", ms("pg_ticks")),
              "yes ok" if not failed else "NO MISMATCH"))
sys.exit(1 if failed else 0)
PY
}

if [ "$DATABASE" = pg ]; then
    pg_main
    exit $?
fi

model_tickets || exit 1

# ---- the bulk rows ----
bulk_rows 0 || exit 1

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
