#!/bin/sh
# Staff trust from DKIM and DMARC when the real OpenDKIM and OpenDMARC run
# as milters before ticket-milter in the same smtpd, set up as README.md
# says (its postconf and header_checks lines, run as written).
#
# Two hops through one private Postfix: a staff reply sent to the first
# listener is signed there by OpenDKIM (the staff's own server) and relayed
# from 127.0.0.2, the outside client, to the MX listener, where OpenDKIM
# and OpenDMARC verify it (DNS from a private dnsmasq on a loopback address
# of its own) and ticket-milter reads their results.  A forged dmarc=pass
# that mail brings with it is dropped by header_checks; without that line
# it would be believed, which is why the README asks for it.
set -u
. tests/e2e/lib.sh
. tests/e2e/readme.sh
F=tests/fixtures/e2e
AUTHSERV=mx.test.example
E2E_CONF_EXTRA="[staff]
addresses = lead@example.com
authserv_ids = $AUTHSERV
authserv_networks = 0.0.0.0/0; ::/0"
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
PF=$E2E_DIR/postfix/etc
OURS=$(postconf -c "$PF" -h smtpd_milters)
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; for p in $PIDS; do wait "$p" 2>/dev/null; done; e2e_teardown' EXIT

# ---- DNS: the staff domain's DKIM key and DMARC policy ----
K=$E2E_DIR/dkim
mkdir -p "$K"
opendkim-genkey -b 1024 -d example.com -s sel -D "$K" && chown -R postfix "$K"
ok $? "opendkim-genkey makes the staff domain's key"
pubkey=$(tr -d '\n\t' <"$K/sel.txt" | sed 's/.*p=\([^"]*\)".*/\1/')
# A loopback address of its own, so that port 53 is free whatever else runs.
DNS=
for try in 1 2 3 4 5; do
    addr=127.53.$(($(od -An -N1 -tu1 /dev/urandom) % 250 + 1)).$(($(od -An -N1 -tu1 /dev/urandom) % 250 + 1))
    dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
        --listen-address="$addr" --port=53 --user=nobody --pid-file="$E2E_DIR/dns.pid.$try" \
        --txt-record="sel._domainkey.example.com,v=DKIM1; k=rsa; p=$pubkey" \
        --txt-record="_dmarc.example.com,v=DMARC1; p=reject" >>"$E2E_DIR/dns.log" 2>&1 &
    pid=$!
    sleep 0.5
    if kill -0 "$pid" 2>/dev/null; then
        DNS=$addr
        PIDS="$PIDS $pid"
        break
    fi
done
ok $([ -n "$DNS" ]; echo $?) "dnsmasq serves the key and the DMARC record on $DNS"
echo "nameserver $DNS" >"$E2E_DIR/resolv.conf"

# ---- the milters ----
SIGN=$(free_port)
VERIFY=$(free_port)
DMARC=$(free_port)
MX=$(free_port)
common="Background no
Syslog no
UserID postfix"
cat >"$E2E_DIR/sign.conf" <<EOF
Mode s
Domain example.com
Selector sel
KeyFile $K/sel.private
RequireSafeKeys false
Socket inet:$SIGN@127.0.0.1
PidFile $E2E_DIR/sign.pid
$common
EOF
cat >"$E2E_DIR/verify.conf" <<EOF
Mode v
AuthservID $AUTHSERV
Nameservers $DNS
Socket inet:$VERIFY@127.0.0.1
PidFile $E2E_DIR/verify.pid
$common
EOF
cat >"$E2E_DIR/dmarc.conf" <<EOF
AuthservID $AUTHSERV
TrustedAuthservIDs $AUTHSERV
SPFIgnoreResults true
SPFSelfValidate false
Socket inet:$DMARC@127.0.0.1
PidFile $E2E_DIR/dmarc.pid
$common
EOF
opendkim -f -x "$E2E_DIR/sign.conf" >>"$E2E_DIR/sign.log" 2>&1 &
PIDS="$PIDS $!"
opendkim -f -x "$E2E_DIR/verify.conf" >>"$E2E_DIR/verify.log" 2>&1 &
PIDS="$PIDS $!"
# OpenDMARC asks the system's resolver: in a mount namespace of its own,
# /etc/resolv.conf names our dnsmasq (nothing outside it changes).
unshare --mount sh -c "mount --bind '$E2E_DIR/resolv.conf' /etc/resolv.conf &&
    exec opendmarc -f -c '$E2E_DIR/dmarc.conf'" >>"$E2E_DIR/dmarc.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$SIGN" 10 && wait_port "$VERIFY" 10 && wait_port "$DMARC" 10
ok $? "OpenDKIM (signing and verifying) and OpenDMARC run"

# ---- Postfix ----
# The first listener is the staff's server: it signs and relays to the MX
# listener from 127.0.0.2, an outside client.
postconf -c "$PF" -M "relay-outside/unix=relay-outside unix - - n - - smtp -o smtp_bind_address=127.0.0.2"
postconf -c "$PF" -M "127.0.0.1:$MX/inet=127.0.0.1:$MX inet n - n - - smtpd"
postconf -c "$PF" -P "127.0.0.1:$SMTP_PORT/inet/smtpd_milters=inet:127.0.0.1:$SIGN" \
    "127.0.0.1:$SMTP_PORT/inet/content_filter=relay-outside:[127.0.0.1]:$MX"
# The MX as its admin had it, then the README's lines.
postconf -c "$PF" -e "smtpd_milters = inet:127.0.0.1:$VERIFY, inet:127.0.0.1:$DMARC" \
    "milter_default_action = accept"
as_readme() {
    readme_block "$1" | sed -e "s|postconf |postconf -c \"$PF\" |g" \
        -e "s|unix:/run/ticket-milter/milter.sock|$OURS|g" >"$E2E_DIR/$2.sh"
    sh -eu "$E2E_DIR/$2.sh"
}
as_readme "postconf lines" wiring
ok $? "the README's postconf lines run"
as_readme "header_checks lines" strip
ok $? "the README's header_checks lines run"
like "$(man_has_lines man/ticket-milter.8 "$(readme_block "header_checks lines")")" '^$' \
    "ticket-milter(8) has the same header_checks lines"
postfix -c "$PF" reload >/dev/null 2>&1
sleep 1

field() { tctl show TKT-1 --json | json "$1"; }
trusts() { field '[e["detail"].get("trust") for e in d["events"] if e["type"] == "staff-reply"]'; }
untrusted() { field 'len([e for e in d["events"] if e["type"] == "untrusted-staff"])'; }
replies() { field 'len([e for e in d["events"] if e["type"] == "staff-reply"])'; }
# staff_reply ID SEVERITY [HEADER]: lead@'s reply asking for #severity SEVERITY.
staff_reply() {
    {
        [ -n "${3:-}" ] && echo "$3"
        echo "From: Lead <lead@example.com>"
        echo "To: support@example.com"
        echo "Subject: Re: [TKT-1] Checkout page returns error 500"
        echo "Message-ID: <$1@example.com>"
        echo "In-Reply-To: <outage-1@acme.test>"
        echo
        echo "#severity $2"
        echo
        echo "Looking into it."
    } >"$E2E_DIR/$1.eml"
}

send_mail "$F/new-outage.eml" --port "$MX" --local-interface 127.0.0.2
ok $? "a customer's mail to the MX opens TKT-1"
is "$(field 'd["severity"]')" "3" "at severity 3"

staff_reply signed 2
send_mail "$E2E_DIR/signed.eml"
ok $? "the staff's server takes the reply and signs it"
wait_for 1 20 replies
is "$(field 'd["severity"]')" "2" "at the MX, OpenDKIM and OpenDMARC vouch for it: #severity 2 applies"
like "$(trusts)" '"(dkim|dmarc)"' "the staff-reply event says which"
copy=$(sink_grep '^Message-ID: <signed@example.com>' | head -n 1)
like "$(grep -A1 "^Authentication-Results: $AUTHSERV;\$" "${copy:-/dev/null}" | tr -d '\n')" \
    "dkim=pass .* header\\.d=example\\.com" "OpenDKIM verified the signature"
like "$(grep '^Authentication-Results:' "${copy:-/dev/null}")" "$AUTHSERV; dmarc=pass" \
    "OpenDMARC found DMARC aligned"
ok $(grep -q '^DKIM-Signature: .*d=example.com' "${copy:-/dev/null}"; echo $?) \
    "the copy carries the staff server's signature"

forged="Authentication-Results: $AUTHSERV; dmarc=pass header.from=example.com"
staff_reply forged 1 "$forged"
send_mail "$E2E_DIR/forged.eml" --port "$MX" --local-interface 127.0.0.2
ok $? "an unsigned reply with a forged dmarc=pass reaches the MX"
is "$(field 'd["severity"]')" "2" "its #severity 1 changes nothing"
is "$(untrusted)" "1" "and is a security event"

# Why the README asks for header_checks.
postconf -c "$PF" -X header_checks
postfix -c "$PF" reload >/dev/null 2>&1
sleep 1
staff_reply forged-again 1 "$forged"
send_mail "$E2E_DIR/forged-again.eml" --port "$MX" --local-interface 127.0.0.2
is "$(field 'd["severity"]')" "1" \
    "without the header_checks line, the same forgery would be believed (no milter can tell)"

done_testing
