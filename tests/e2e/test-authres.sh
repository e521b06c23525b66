#!/bin/sh
# Staff mail vouched for by Authentication-Results: a reply that our own
# verifier (authserv-id mx.example.com, on a host in authserv_networks)
# found dkim=pass or dmarc=pass for the staff domain runs its commands.
# Results from another authserv-id, results that came in below a Received
# header (written before the last hop, by anyone), a signature of another
# domain, and results handed over by a host outside authserv_networks
# change nothing and are recorded as a security event.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 192.0.2.1/32
authserv_ids = mx.example.com
authserv_networks = 127.0.0.1/32'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
untrusted() { field TKT-1 'len([e for e in d["events"] if e["type"] == "untrusted-staff"])'; }

# staff_reply ID SEVERITY HEADERS...: a reply from lead@ that asks for
# #severity SEVERITY, with the given header lines on top.
staff_reply() {
    id=$1
    sev=$2
    shift 2
    {
        for h in "$@"; do echo "$h"; done
        echo "From: Lead <lead@example.com>"
        echo "To: support@example.com"
        echo "Subject: Re: [TKT-1] Checkout page returns error 500"
        echo "Message-ID: <$id@example.com>"
        echo "In-Reply-To: <outage-1@acme.test>"
        echo
        echo "#severity $sev"
        echo
        echo "Looking into it."
    } >"$E2E_DIR/$id.eml"
}

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"
is "$(field TKT-1 'd["severity"]')" "3" "at severity 3"

staff_reply other-id 1 'Authentication-Results: mx.elsewhere.test; dkim=pass header.d=example.com'
send_mail "$E2E_DIR/other-id.eml"
is "$(field TKT-1 'd["severity"]')" "3" "results of another authserv-id change nothing"
is "$(untrusted)" "1" "and are a security event"

staff_reply below 1 'Received: from laptop.example.com by relay.evil.test; Tue, 24 Nov 2026 10:00:00 +0000' \
    'Authentication-Results: mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com'
send_mail "$E2E_DIR/below.eml"
is "$(field TKT-1 'd["severity"]')" "3" "our authserv-id below a Received header changes nothing"
is "$(untrusted)" "2" "and is a security event"

staff_reply unaligned 1 'Authentication-Results: mx.example.com; dkim=pass header.d=evil.test'
send_mail "$E2E_DIR/unaligned.eml"
is "$(field TKT-1 'd["severity"]')" "3" "a DKIM pass for another domain changes nothing"

staff_reply outside 1 'Authentication-Results: mx.example.com; dkim=pass header.d=example.com'
send_mail "$E2E_DIR/outside.eml" --local-interface 127.0.0.2
is "$(field TKT-1 'd["severity"]')" "3" "results from a host outside authserv_networks change nothing"
is "$(untrusted)" "4" "each is a security event"

staff_reply dkim 2 'Authentication-Results: mx.example.com;
	spf=pass smtp.mailfrom=example.com;
	dkim=pass (2048-bit key) header.d=example.com header.s=sel1'
send_mail "$E2E_DIR/dkim.eml"
ok $? "a staff reply with our dkim=pass is accepted"
is "$(field TKT-1 'd["severity"]')" "2" "its #severity 2 applies"
like "$(field TKT-1 '[e["detail"] for e in d["events"] if e["type"] == "staff-reply"]')" \
    '"trust": "dkim"' "the staff-reply event says DKIM vouched for it"

staff_reply dmarc 1 'Authentication-Results: mx.example.com; dkim=fail header.d=example.com; dmarc=pass header.from=example.com'
send_mail "$E2E_DIR/dmarc.eml"
is "$(field TKT-1 'd["severity"]')" "1" "dmarc=pass for the staff domain is enough"
is "$(untrusted)" "4" "neither is a security event"

done_testing
