#!/bin/sh
# Webhooks as an admin wiring Slack would check them: a capture HTTP server
# on 127.0.0.1 records every POST; a Severity 1 ticket is driven through its
# escalations, SLA warning and breach with "ticketctl tick --now"; each event
# is POSTed once, as application/json, with the documented fields and a
# "text" that names the ticket. Then the server answers 500 for a while: the
# event is retried with growing waits and delivered once it is back. A
# staff "#escalate" is POSTed like the automatic ones, and a slow webhook
# does not hold up the next customer's acknowledgement.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
HOOK_PORT=$(free_port)
# The harness retries after retry_base = 2 seconds, doubled up to
# retry_max = 4.
E2E_CONF_EXTRA="[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.0/8
[escalation]
stage1 = lead@example.com
stage2 = am@example.com
stage3 = director@example.com
[outbound]
webhook_url = http://127.0.0.1:$HOOK_PORT/hook"
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

# The capture server: one JSON line per request in $HOOKS (time, path,
# headers, body, the status it answered). While $HOOK_FAIL exists it
# answers 500; while $HOOK_SLOW exists it waits that many seconds first.
HOOKS=$E2E_DIR/hooks.jsonl
HOOK_FAIL=$E2E_DIR/hook-fail
HOOK_SLOW=$E2E_DIR/hook-slow
python3 - "$HOOK_PORT" "$HOOKS" "$HOOK_FAIL" "$HOOK_SLOW" >"$E2E_DIR/hook.log" 2>&1 <<'PY' &
import http.server, json, os, sys, time
port, log, fail, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        status = 500 if os.path.exists(fail) else 200
        if os.path.exists(slow):
            time.sleep(float(open(slow).read()))
        with open(log, "a") as f:
            f.write(json.dumps({"t": time.time(), "path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body, "status": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"no")

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
HOOK_PID=$!
trap 'kill "$HOOK_PID" 2>/dev/null; wait "$HOOK_PID" 2>/dev/null; e2e_teardown' EXIT
wait_port "$HOOK_PORT" 10
ok $? "the capture HTTP server listens on 127.0.0.1:$HOOK_PORT"
touch "$HOOKS"

# hooks EXPR: a Python expression over the recorded requests: r (a list of
# dicts; "json" is the parsed body, or None when it does not parse), ok
# (those answered 200), fails (the times of those answered 500) and gaps
# (the seconds between those).
hooks() {
    python3 -c 'import json, sys
r = []
for line in open(sys.argv[2]):
    h = json.loads(line)
    try:
        h["json"] = json.loads(h["body"])
    except ValueError:
        h["json"] = None
    r.append(h)
ok = [h for h in r if h["status"] == 200]
fails = [h["t"] for h in r if h["status"] == 500]
gaps = [round(b - a, 1) for a, b in zip(fails, fails[1:])]
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$HOOKS"
}
# delivered EVENT [GOAL]: 200-answered POSTs of that event (and goal).
delivered() {
    hooks "len([h for h in ok if h['json'] and h['json'].get('event') == '$1'
                and ('${2:-}' == '' or (h['json'].get('detail') or {}).get('goal') == '${2:-}')])"
}
at() {
    python3 -c 'import sys, datetime as d
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") + d.timedelta(minutes=float(sys.argv[2]))
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$T0" "$1"
}
tick() { tctl tick --now "$(at "$1")"; }
field() { tctl show "$1" --json | json "$2"; }
webhook_rows() { sql "SELECT count(*) FROM outbox WHERE transport = 'webhook'"; }
webhook_settled() { [ "$(webhook_pending)" = 0 ] && echo 1 || echo 0; }
webhook_pending() { sql "SELECT count(*) FROM outbox WHERE transport = 'webhook' AND status = 'pending'"; }

# 1. A Severity 1 ticket opens at Stage 2: an escalation is POSTed.
send_mail "$F/sev1-outage.eml"
ok $? "a Sev1 mail is accepted"
T0=$(field TKT-1 'd["created_at"]')
is "$(field TKT-1 'd["stage"]')" "2" "it opens at Stage 2"
wait_for 1 20 delivered escalation
is "$(delivered escalation)" "1" "the automatic escalation to Stage 2 is POSTed"

# 2. Warning at 45 minutes, breach at 60, Stage 3 a business day later.
tick 46 >/dev/null
wait_for 1 20 delivered sla-warning response
is "$(delivered sla-warning response)" "1" "the response-goal warning is POSTed"
tick 61 >/dev/null
wait_for 1 20 delivered sla-breach response
is "$(delivered sla-breach response)" "1" "the response-goal breach is POSTed"
tick $((60 * 24 * 5)) >/dev/null
wait_for 2 20 delivered escalation
is "$(delivered escalation)" "2" "the escalation to Stage 3 is POSTed"
tick $((60 * 24 * 6)) >/dev/null
wait_for 1 20 webhook_settled
sleep 4
is "$(webhook_pending)" "0" "the outbox holds no webhook still to send"

# Every webhook row of the outbox went out, as one POST each.
rows=$(webhook_rows)
is "$(hooks 'len(r)')" "$rows" "one POST per webhook row in the outbox ($rows), no more"
is "$(hooks 'len(set(h["body"] for h in r))')" "$rows" "no POST is a duplicate of another"
is "$(sql "SELECT count(*) FROM events WHERE type IN ('sla-warning', 'sla-breach')")" \
    "$(hooks 'len([h for h in ok if h["json"]["event"] in ("sla-warning", "sla-breach")])')" \
    "one warning or breach POST per warning or breach event on the ticket"
is "$(sql "SELECT count(*) FROM events WHERE type = 'stage'")" \
    "$(hooks 'len([h for h in ok if h["json"]["event"] == "escalation"])')" \
    "one escalation POST per stage event (the one at creation included)"
is "$(hooks 'sorted(set((h["json"]["event"], h["json"]["ticket"]["stage"]) for h in ok if h["json"]["event"] == "escalation"))')" \
    '[["escalation", 2], ["escalation", 3]]' "the escalations are to Stage 2 and to Stage 3, once each"

# 3. What a Slack or Teams integration needs from each request.
is "$(hooks 'sorted(set(h["path"] for h in r))')" '["/hook"]' "every POST goes to the configured path"
is "$(hooks 'sorted(set(h["headers"].get("content-type") for h in r))')" '["application/json"]' \
    "Content-Type: application/json"
is "$(hooks 'len([h for h in r if h["json"] is None])')" "0" "every body parses as JSON"
is "$(hooks 'sorted(set(h["json"]["event"] for h in r))')" \
    '["escalation", "sla-breach", "sla-warning"]' "the event types are the documented ones"
is "$(hooks 'sorted(set(tuple(sorted(h["json"])) for h in r))')" \
    '[["at", "detail", "event", "text", "ticket"]]' "the top-level fields are the documented ones"
is "$(hooks 'sorted(set(tuple(sorted(h["json"]["ticket"])) for h in r))')" \
    '[["assignee", "clock_start", "created_at", "customer", "first_response_at", "first_response_due", "id", "language", "next_update_due", "paused_at", "paused_seconds", "plan", "requester", "resolution_due", "resolved_at", "severity", "stage", "status", "subject", "timezone", "updated_at"]]' \
    "the ticket object has the documented fields (those of ticketctl show --json)"
is "$(hooks 'sorted(set((h["json"]["ticket"]["id"], h["json"]["ticket"]["severity"], h["json"]["ticket"]["customer"]) for h in r))')" \
    '[["TKT-1", 1, "acme"]]' "they name TKT-1, severity 1, customer acme"
is "$(hooks 'sorted(set(h["json"]["ticket"]["first_response_due"] for h in r))')" \
    "[\"$(at 60)\"]" "with the response deadline"
like "$(hooks '[h["json"]["at"] for h in r]')" '^\["20[0-9-]{8}T[0-9:]{8}Z"(, "20[0-9-]{8}T[0-9:]{8}Z")*\]$' \
    "each says when, in ISO 8601 UTC"
is "$(hooks '[(h["json"]["detail"]["goal"], h["json"]["detail"]["due"]) for h in ok if h["json"]["event"] == "sla-breach" and h["json"]["detail"]["goal"] == "response"]')" \
    "[[\"response\", \"$(at 60)\"]]" "the breach names the goal and its deadline"
is "$(hooks 'len([h for h in r if not isinstance(h["json"]["text"], str) or "TKT-1" not in h["json"]["text"]])')" \
    "0" "every \"text\" (what Slack shows) names the ticket"
is "$(hooks '["[Sev1]\u200b Production down: all checkouts fail" in h["json"]["text"] for h in ok if h["json"]["event"] == "escalation"][:1]')" \
    '[true]' "the customer's subject in the text is escaped for chat (no ']' that starts a link)"
is "$(hooks '[("\u200b" in h["json"]["text"]) for h in ok if h["json"]["event"] == "sla-breach"][:1]')" \
    '[false]' "our own words (the deadline in an SLA text) are left as written"
is "$(hooks 'sorted(set(h["json"]["ticket"]["subject"] for h in r))')" \
    '["[Sev1] Production down: all checkouts fail"]' "ticket.subject is the subject as it is"
if [ "$TAP_FAILED" -gt 0 ]; then
    hooks '[(h["json"]["event"], h["json"]["text"]) for h in r]' | sed 's/^/#   texts: /'
fi

# 4. The webhook answers 500: the POST is retried, with growing waits,
# and delivered once when it answers 200 again.
before=$(hooks 'len(r)')
touch "$HOOK_FAIL"
sed 's/sev1-1@/sev1-9@/; s/^Subject: .*/Subject: [Sev1] Second outage: search is down/' \
    "$F/sev1-outage.eml" >"$E2E_DIR/second.eml"
send_mail "$E2E_DIR/second.eml"
ok $? "a second Sev1 mail is accepted while the webhook answers 500"
wait_for $((before + 3)) 30 hooks 'len(r)'
row=$(sql "SELECT id FROM outbox WHERE transport = 'webhook' AND ticket_id = 2")
is "$(sql "SELECT status FROM outbox WHERE id = $row")" "pending" "its escalation POST waits in the outbox"
like "$(sql "SELECT last_error FROM outbox WHERE id = $row")" '500' "the outbox records the 500"
echo "# seconds between attempts: $(hooks gaps)"
is "$(hooks 'len(fails) >= 3')" "true" "it is tried again and again"
# Each wait runs from the end of the failed attempt, in the outbox's whole
# seconds: retry_base (2 s) first, then doubled up to retry_max (4 s).
is "$(hooks '1.9 <= gaps[0] < 3.5 and all(3.9 <= g < 5.5 for g in gaps[1:])')" \
    "true" "with waits that grow from retry_base (2 s) to retry_max (4 s), never shorter"
is "$(hooks 'len(fails) < 10')" "true" "and not in a tight loop ($(hooks 'len(fails)') attempts)"
rm -f "$HOOK_FAIL"
wait_for 1 20 hooks 'len([h for h in ok if h["json"]["ticket"]["id"] == "TKT-2"])'
sleep 4
is "$(hooks 'len([h for h in ok if h["json"]["ticket"]["id"] == "TKT-2"])')" "1" \
    "when the webhook answers 200 again, the escalation is delivered once"
is "$(hooks 'len(set(h["body"] for h in r if h["json"]["ticket"]["id"] == "TKT-2"))')" "1" \
    "every retry carries the same body"
is "$(sql "SELECT status FROM outbox WHERE id = $row")" "sent" "and the outbox says sent"
is "$(hooks 'len([h for h in r if h["status"] == 200 and h["t"] > [x["t"] for x in r if x["status"] == 200 and x["json"]["ticket"]["id"] == "TKT-2"][0]])')" \
    "0" "nothing is POSTed after it"

# 5. A staff "#escalate" moves TKT-2 to Stage 3 by hand: one POST, about TKT-2.
cat >"$E2E_DIR/escalate.eml" <<MAIL
From: Lead <lead@example.com>
To: jan@acme.test
Cc: support@example.com
Subject: Re: [TKT-2] [Sev1] Second outage: search is down
Message-ID: <staff-escalate-1@example.com>
In-Reply-To: <sev1-9@acme.test>
Date: Tue, 24 Nov 2026 10:20:00 +0100

#escalate

Moving this to the director.
MAIL
before=$(hooks 'len(r)')
send_mail "$E2E_DIR/escalate.eml" --to support@example.com
ok $? "a staff reply with #escalate is accepted"
is "$(field TKT-2 'd["stage"]')" "3" "TKT-2 is at Stage 3"
wait_for $((before + 1)) 20 hooks 'len(r)'
sleep 4
is "$(hooks "[(h['json']['event'], h['json']['ticket']['id'], h['json']['ticket']['stage']) for h in r[$before:]]")" \
    '[["escalation", "TKT-2", 3]]' "the hand escalation is POSTed once, with the new stage"
like "$(hooks "[h['json']['text'] for h in r[$before:]][0]")" 'TKT-2' \
    "its \"text\" names the ticket"

# 6. A slow webhook (Slack having a bad minute) must not hold up the
# acknowledgement of the next customer's ticket.
echo 6 >"$HOOK_SLOW"
sed 's/sev1-1@/sev1-10@/; s/^Subject: .*/Subject: [Sev1] Third outage: login is down/' \
    "$F/sev1-outage.eml" >"$E2E_DIR/third.eml"
send_mail "$E2E_DIR/third.eml"
ok $? "a Sev1 mail is accepted while the webhook takes 6 s to answer"
sleep 1
send_mail "$F/new-outage.eml"
ok $? "a second customer's mail follows a second later"
id=$(sql "SELECT max(id) FROM tickets")
ack_sent() { sql "SELECT count(*) FROM outbox WHERE template = 'ack-new' AND ticket_id = $id AND status = 'sent'"; }
wait_for 1 20 ack_sent
ms=$(sql "SELECT (sent_us - queued_us) / 1000 FROM outbox WHERE template = 'ack-new' AND ticket_id = $id")
is "$([ "${ms:-99999}" -lt 2000 ] && echo fast || echo "${ms:-?} ms")" "fast" \
    "its acknowledgement reaches the relay within 2 s, not after the slow webhook"
rm -f "$HOOK_SLOW"

done_testing
