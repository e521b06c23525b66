#!/bin/sh
# ticketctl as admins expect a tool to behave: GLib's option parser
# (--limit=5 and --limit 5), an option that does not apply is an error
# naming the command, --help per command, --version, --json on every
# command, show --raw giving a stored message back byte for byte, export
# --mbox that a mail library reads, and the shell completion.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"
send_mail "$F/second-question.eml"
ok $? "a second one opens TKT-2"

# Options.  A stored message is searchable shortly after its 250 (the
# daemon indexes when idle): wait for it as a user would look again.
found() { tctl search --json checkout | json 'len(d)'; }
wait_for 1 10 found
is "$(tctl search --limit=1 --json checkout | json 'len(d)')" "1" "--limit=1 works"
is "$(tctl search --limit 1 --json checkout | json 'len(d)')" "1" "and --limit 1 too"
out=$(tctl list --before 2026-01-01 2>&1)
rc=$?
is "$rc" "2" "an option that does not apply is a usage error (exit 2)"
like "$out" '^ticketctl list: Unknown option --before' "naming the command and the option"
out=$(tctl search --limit=many checkout 2>&1)
is "$?" "2" "a number option with a word is refused"
out=$(tctl frobnicate 2>&1)
like "$out" 'unknown command "frobnicate"' "an unknown command says so"
help=$(tctl backup --help)
like "$help" ' --daily=N' "backup --help lists its own options"
ok "$(printf '%s' "$help" | grep -c -- '--overdue')" "and not another command's"
like "$("$E2E_ROOT/$BUILD/ticketctl" --version)" '^ticketctl [0-9]+\.[0-9]+\.[0-9]+$' "--version"

# --json on every command that reports.
for cmd in "list" "show TKT-1" "sla" "stats" "customers" "search checkout" "unattached" \
    "tick --now 2026-01-01T00:00:00Z" "export TKT-1"; do
    # shellcheck disable=SC2086
    tctl $cmd --json | python3 -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null
    ok $? "ticketctl $cmd --json prints JSON"
done
is "$(tctl close TKT-2 --quiet --json | json '[d["to"], d["changed"]]')" '["closed", true]' \
    "close --json says what changed"
is "$(tctl close TKT-2 --json | json 'd["changed"]')" "false" "and when nothing did"

# show --raw: the message as it was stored, byte for byte.
tctl show --raw TKT-1 1 >"$E2E_DIR/raw.eml"
ok $? "show --raw TKT-1 1"
is "$(od -An -tx1 "$E2E_DIR/raw.eml" | tr -d ' \n')" \
    "$(sql "SELECT lower(hex(raw)) FROM messages WHERE ticket_id = 1 ORDER BY id LIMIT 1")" \
    "is byte for byte the stored message"
like "$(cat "$E2E_DIR/raw.eml")" 'Customers cannot pay' "with its body"
tctl show --raw TKT-1 9 >/dev/null 2>&1
is "$?" "1" "a message that is not there: exit 1"

# export --mbox: a mail library reads it back.
tctl export --mbox >"$E2E_DIR/all.mbox"
ok $? "export --mbox"
is "$(python3 -c 'import mailbox, sys
print(sorted(m["Message-ID"] for m in mailbox.mbox(sys.argv[1])))' "$E2E_DIR/all.mbox")" \
    "['<outage-1@acme.test>', '<vraag-1@bakker.nl>']" "an mbox of every stored message"

# The shell completion.
comp() {
    bash -c '. /usr/share/bash-completion/bash_completion
. etc/ticketctl.bash-completion
COMP_WORDS=($1); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
[ "${1% }" != "$1" ] && COMP_WORDS+=("") && COMP_CWORD=${#COMP_WORDS[@]}-1
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
_ticketctl; printf "%s\n" "${COMPREPLY[@]}"' sh "$1"
}
is "$(comp 'ticketctl re' | tr '\n' ' ')" "report reopen restore " "completes command names"
is "$(comp 'ticketctl backup --da' | tr '\n' ' ')" "--daily " "completes a command's own options"

done_testing
