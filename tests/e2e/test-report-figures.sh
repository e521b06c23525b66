#!/bin/sh
# ticketctl report, sla and list on a month whose every goal is met or
# missed at a known second (tests/e2e/report-scenario.sh says which): every
# number of report --json against the figures worked out by hand below, in
# English and in Dutch; the filters, the default period across a DST change,
# and sla's order and filters.
set -u
. tests/e2e/lib.sh
. tests/e2e/report-scenario.sh
report_setup
report_scenario
tctl() { "$E2E_ROOT/$BUILD/ticketctl" -c "$CONF" "$@"; }
report() { tctl report --now "$R_NOW" "$@"; }

report --json >"$R_DIR/en.json"
ok $? "report --json runs"
report --json --language nl >"$R_DIR/nl.json"
ok $? "report --json --language nl runs"

# check FILE: every number in FILE against the hand-worked figures; prints
# "ok" or the paths that differ, and the numbers nobody expected.
check() {
    python3 - "$1" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))

H = 3600
def goal(met, missed, running, pct):
    return {"met": met, "missed": missed, "running": running, "percent": pct}
def stat(count, median=None, p90=None, mx=None):
    return {"count": count, "median": median, "p90": p90, "max": mx}
def within(w1, d1, p1, w2, d2, p2, w5, d5, p5):
    return {"1bd": {"within": w1, "decided": d1, "percent": p1},
            "2bd": {"within": w2, "decided": d2, "percent": p2},
            "5bd": {"within": w5, "decided": d5, "percent": p5}}
def group(opened, resolved, open_at_end, response, update, resolution, fr_b, fr_r, rs_b, rs_r,
          within_, breaches, escalations):
    return {"opened": opened, "resolved": resolved, "open_at_end": open_at_end,
            "response": response, "update": update, "resolution": resolution,
            "first_response": {"business": fr_b, "real": fr_r},
            "resolution_time": {"business": rs_b, "real": rs_r},
            "resolved_within": within_, "breaches": breaches, "escalations": escalations}
none = goal(0, 0, 0, None)
empty = stat(0)

# Business hours are 07:00-16:00Z on weekdays (08-17 in Amsterdam, UTC+1),
# a business day 9 h.  First responses (business / real):
#   TKT-2 09:00-09:30                          0.5 h /  0.5 h
#   TKT-3 Mon 15:00 -> Tue 10:00: 1 + 3       4 h   /  19 h
#   TKT-4 Tue 08:00 -> 11:00                  3 h   /   3 h
#   TKT-5 Thu 14:00 -> Wed 09:00: 2+9+9+9+2  31 h   / 139 h
# Resolutions (business time only while open; TKT-4 waited Tue 11:00 to
# Wed 08:00 for the customer):
#   TKT-2 09:00-12:00                          3 h   /   3 h
#   TKT-3 Mon 15:00 -> Thu 09:00: 1+9+9+2     21 h   /  66 h
#   TKT-4 Tue 08-11, Wed 08-16, Thu, Fri, Mon 07-10: 3+8+9+9+3 = 32 h / 146 h
# Nearest rank: of 4 values the median is the 2nd, p90 the 4th; of 3 the
# 2nd and 3rd; of 2 the 1st and 2nd.
# Resolved within 1/2/5 business days (9/18/45 h): TKT-2 all three, TKT-3
# and TKT-4 only 5; TKT-5 (155 h open) and TKT-6 (151 h, UTC hours) are
# decided without; TKT-7 (1 h so far) is not decided.
want = {
    "open_at_start": 1,
    "total": group(6, 4, 3, goal(2, 2, 1, 50.0), goal(1, 1, 0, 50.0), goal(1, 0, 0, 100.0),
                   stat(4, 3 * H, 31 * H, 31 * H), stat(4, 3 * H, 139 * H, 139 * H),
                   stat(3, 21 * H, 32 * H, 32 * H), stat(3, 66 * H, 146 * H, 146 * H),
                   within(1, 5, 20.0, 1, 5, 20.0, 3, 5, 60.0), 3, 9),
    "by_severity": [
        dict(severity=1, **group(1, 1, 0, goal(1, 0, 0, 100.0), goal(1, 0, 0, 100.0), none,
                                 stat(1, 1800, 1800, 1800), stat(1, 1800, 1800, 1800),
                                 stat(1, 3 * H, 3 * H, 3 * H), stat(1, 3 * H, 3 * H, 3 * H),
                                 within(1, 1, 100.0, 1, 1, 100.0, 1, 1, 100.0), 0, 1)),
        dict(severity=2, **group(3, 2, 1, goal(1, 1, 1, 50.0), goal(0, 1, 0, 0.0),
                                 goal(1, 0, 0, 100.0),
                                 stat(2, 3 * H, 4 * H, 4 * H), stat(2, 3 * H, 19 * H, 19 * H),
                                 stat(2, 21 * H, 32 * H, 32 * H), stat(2, 66 * H, 146 * H, 146 * H),
                                 within(0, 2, 0.0, 0, 2, 0.0, 2, 2, 100.0), 2, 6)),
        dict(severity=3, **group(2, 1, 2, goal(0, 1, 0, 0.0), none, none,
                                 stat(1, 31 * H, 31 * H, 31 * H), stat(1, 139 * H, 139 * H, 139 * H),
                                 empty, empty, within(0, 2, 0.0, 0, 2, 0.0, 0, 2, 0.0), 1, 2)),
        dict(severity=4, **group(0, 0, 0, none, none, none, empty, empty, empty, empty,
                                 within(0, 0, None, 0, 0, None, 0, 0, None), 0, 0)),
    ],
    "by_plan": [
        dict(plan="extended", **group(1, 1, 0, goal(1, 0, 0, 100.0), none, goal(1, 0, 0, 100.0),
                                      stat(1, 3 * H, 3 * H, 3 * H), stat(1, 3 * H, 3 * H, 3 * H),
                                      stat(1, 32 * H, 32 * H, 32 * H),
                                      stat(1, 146 * H, 146 * H, 146 * H),
                                      within(0, 1, 0.0, 0, 1, 0.0, 1, 1, 100.0), 0, 2)),
        dict(plan="standard", **group(5, 3, 3, goal(1, 2, 1, 33.3), goal(1, 1, 0, 50.0), none,
                                      stat(3, 4 * H, 31 * H, 31 * H),
                                      stat(3, 19 * H, 139 * H, 139 * H),
                                      stat(2, 3 * H, 21 * H, 21 * H), stat(2, 3 * H, 66 * H, 66 * H),
                                      within(1, 4, 25.0, 1, 4, 25.0, 2, 4, 50.0), 3, 7)),
    ],
    "by_customer": [
        dict(customer="acme", **group(4, 3, 2, goal(1, 2, 1, 33.3), goal(1, 1, 0, 50.0), none,
                                      stat(3, 4 * H, 31 * H, 31 * H),
                                      stat(3, 19 * H, 139 * H, 139 * H),
                                      stat(2, 3 * H, 21 * H, 21 * H), stat(2, 3 * H, 66 * H, 66 * H),
                                      within(1, 3, 33.3, 1, 3, 33.3, 2, 3, 66.7), 3, 7)),
        dict(customer="bakker", **group(1, 1, 0, goal(1, 0, 0, 100.0), none, goal(1, 0, 0, 100.0),
                                        stat(1, 3 * H, 3 * H, 3 * H), stat(1, 3 * H, 3 * H, 3 * H),
                                        stat(1, 32 * H, 32 * H, 32 * H),
                                        stat(1, 146 * H, 146 * H, 146 * H),
                                        within(0, 1, 0.0, 0, 1, 0.0, 1, 1, 100.0), 0, 2)),
        dict(customer=None, **group(1, 0, 1, none, none, none, empty, empty, empty, empty,
                                    within(0, 1, 0.0, 0, 1, 0.0, 0, 1, 0.0), 0, 0)),
    ],
    # Stage 1: TKT-3, -4 and -7 (Sev2) at creation, TKT-5 for its missed
    # response; Stage 2: TKT-2 (Sev1) at creation, TKT-3 and -4 after two
    # business days, TKT-5 asked by the customer; Stage 3: TKT-3 by #escalate.
    "escalations": {"by_stage": {
        "1": {"automatic": 3, "missed-goal": 1, "ladder": 0, "customer": 0, "staff": 0, "total": 4},
        "2": {"automatic": 1, "missed-goal": 0, "ladder": 2, "customer": 1, "staff": 0, "total": 4},
        "3": {"automatic": 0, "missed-goal": 0, "ladder": 0, "customer": 0, "staff": 1, "total": 1}},
        "total": 9},
    # The tick before TKT-4's mail at 08:00 records TKT-3's first breach.
    "breaches": [
        {"ticket": "TKT-3", "customer": "acme", "severity": 2, "goal": "response",
         "due": "2026-11-03T08:00:00Z", "at": "2026-11-03T08:00:00Z",
         "subject": "Reports are very slow"},
        {"ticket": "TKT-3", "customer": "acme", "severity": 2, "goal": "update",
         "due": "2026-11-04T10:00:00Z", "at": "2026-11-04T10:01:00Z",
         "subject": "Reports are very slow"},
        {"ticket": "TKT-5", "customer": "acme", "severity": 3, "goal": "response",
         "due": "2026-11-10T14:00:00Z", "at": "2026-11-10T14:01:00Z",
         "subject": "Question about the export format"},
    ],
    # Open or pending at the end of each day (23:00Z): TKT-1 until Nov 3,
    # TKT-3 Nov 2-4, TKT-4 Nov 3-8, TKT-5 and -6 from Nov 5 and 6, TKT-7 Nov 30.
    "backlog": [{"date": "2026-11-%02d" % d,
                 "open": {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 30: 3}.get(d, 2)}
                for d in range(1, 31)],
    # 0.5 h -> <= 30m; 3 h and 4 h -> <= 4h; 31 h -> <= 72h; TKT-6, -7 none.
    "first_response_histogram": [
        {"from_seconds": a, "to_seconds": b, "tickets": n} for a, b, n in
        [(0, 900, 0), (900, 1800, 1), (1800, 3600, 0), (3600, 7200, 0), (7200, 14400, 2),
         (14400, 28800, 0), (28800, 86400, 0), (86400, 259200, 1), (259200, None, 0)]],
    "no_first_response": 2,
    "period": {"from": "2026-10-31T23:00:00Z", "to": "2026-11-30T23:00:00Z",
               "facts_until": "2026-11-30T23:00:00Z", "first_day": "2026-11-01",
               "last_day": "2026-11-30", "zone": "Europe/Amsterdam"},
}

bad = []
def walk(w, g, path):
    if isinstance(w, dict):
        if not isinstance(g, dict):
            bad.append("%s: %r" % (path, g)); return
        for k in w:
            walk(w[k], g.get(k, "<missing>"), path + "." + k)
        for k, v in g.items():
            if k not in w and isinstance(v, (int, float, dict, list)) and not isinstance(v, bool):
                bad.append("%s.%s: not expected" % (path, k))
    elif isinstance(w, list):
        if not isinstance(g, list) or len(g) != len(w):
            bad.append("%s: %d items, expected %d" % (path, len(g) if isinstance(g, list) else -1, len(w)))
            return
        for i, (a, b) in enumerate(zip(w, g)):
            walk(a, b, "%s.%d" % (path, i))
    elif w != g:
        bad.append("%s: %r, expected %r" % (path, g, w))
walk(want, got, "")
print("ok" if not bad else "\n".join(bad[:20]))
PY
}

is "$(check "$R_DIR/en.json")" "ok" "every number of the English report is the hand-worked one"
is "$(check "$R_DIR/nl.json")" "ok" "every number of the Dutch report is the same"
is "$(json 'd["language"]' <"$R_DIR/nl.json")" "nl" "the Dutch report says its language"

out=$(report)
like "$out" '^Service report 2026-11-01 – 2026-11-30 \(days in Europe/Amsterdam' \
    "the text report names the period and the zone of its days"
like "$out" 'Resolved within: the next business day 20\.0% \(1/5\), 2 business days 20\.0% \(1/5\), 5 business days 60\.0% \(3/5\)' \
    "the text report has the seed 002 figures"
out=$(report --language nl)
like "$out" '^Servicerapportage 2026-11-01 – 2026-11-30' "the Dutch text report has a Dutch title"
like "$out" 'Opgelost binnen: de volgende werkdag 20,0% \(1/5\)' \
    "the Dutch text report has the same figures with a decimal comma"

# Filters: a customer, a plan, one day.
is "$(report --json --customer bakker | json '[d["total"]["opened"], d["total"]["resolution"]["met"], d["by_customer"][0]["customer"], len(d["by_customer"])]')" \
    '[1, 1, "bakker", 1]' "--customer keeps that customer's tickets only"
is "$(report --json --plan extended | json 'd["total"] == [p for p in d["by_plan"] if p["plan"] == "extended"][0] | {"plan": "extended"} or d["total"]["opened"]')" \
    "1" "--plan extended has the extended tickets"
is "$(report --json --from 2026-11-02 --to 2026-11-02 | json '[d["total"]["opened"], d["total"]["resolved"], d["open_at_start"], d["total"]["open_at_end"], d["total"]["response"]]')" \
    '[2, 1, 1, 2, {"met": 1, "missed": 0, "running": 1, "percent": 100.0}]' \
    "one day: TKT-2 and TKT-3 opened, TKT-2 resolved, TKT-3's response still running at its end"

# The default period is the last full month in the desk's zone: on Nov 3
# that is October, which began at 22:00Z (summer time) and ended at 23:00Z.
is "$(tctl report --json --now 2026-11-03T09:00:00Z | json '[d["period"]["from"], d["period"]["to"], d["total"]["opened"], d["total"]["response"]["met"], d["total"]["open_at_end"]]')" \
    '["2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 1, 1, 1]' \
    "the default period is last month in Europe/Amsterdam, across the change of DST"
# Facts after the end do not count: the November report made a month later
# is the same but for the time it was made.
is "$(tctl report --json --now 2027-01-05T00:00:00Z --from 2026-11-01 --to 2026-11-30 |
    json 'd["total"]')" \
    "$(json 'd["total"]' <"$R_DIR/en.json")" "a report of a past period does not change later"
like "$(report --json --from 2026-11-10 --to 2026-11-01 2>&1)" 'not before --to' \
    "a period that ends before it starts is refused"

# sla: the next deadline first, and its filters.
sla() { tctl sla --json "$@" | json '[t["id"] for t in d]'; }
is "$(sla --now "$R_NOW")" '["TKT-7", "TKT-5", "TKT-6"]' \
    "sla lists the open tickets, the one with a deadline first"
is "$(tctl sla --json --now "$R_NOW" | json '[d[0]["next"]["goal"], d[0]["next"]["seconds_left"], d[0]["update"]["due"]]')" \
    '["update", -16200, "2026-12-02T07:30:00Z"]' \
    "TKT-7's next deadline is its update, overdue by 4h30m"
is "$(sla --now "$R_NOW" --overdue)" '["TKT-7"]' "sla --overdue keeps the overdue"
is "$(sla --now 2026-12-02T07:00:00Z --due-within 1h)" '["TKT-7"]' \
    "sla --due-within 1h keeps what is due within the hour"
is "$(sla --now 2026-12-02T07:00:00Z --due-within 10m)" '[]' "and not what is due later"
is "$(sla --now "$R_NOW" --customer acme)" '["TKT-7", "TKT-5"]' "sla --customer acme"
is "$(sla --now "$R_NOW" --severity 3)" '["TKT-5", "TKT-6"]' "sla --severity 3"
like "$(tctl sla --now "$R_NOW" | head -n 2 | tail -n 1)" \
    '^TKT-7 +2 +1 +open +acme +update overdue 4h30m +met +overdue 4h30m +- +Reports fail to load$' \
    "the sla table shows the next deadline and the update column"

# list: status, customer, period.
list() { tctl list --json "$@" | json '[t["id"] for t in d]'; }
is "$(list --status open)" '["TKT-5", "TKT-6", "TKT-7"]' "list --status open"
is "$(list --status resolved,closed --customer acme)" '["TKT-1", "TKT-2", "TKT-3"]' \
    "list --status resolved,closed --customer acme"
is "$(list --from 2026-11-05 --to 2026-11-06)" '["TKT-5", "TKT-6"]' \
    "list --from and --to take local days, the last one included"
like "$(tctl list --status done 2>&1)" 'a status is open, pending, resolved or closed' \
    "an unknown status is refused"

done_testing
