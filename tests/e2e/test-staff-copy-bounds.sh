#!/bin/sh
# The customer's copy of a staff reply, through a real Postfix, where the
# HTML says more than the plain part: an Outlook reply whose hidden
# preheader repeats the commands in a line of prose, a Gmail reply whose
# hidden preheader of prose stands before them, and a reply whose HTML part
# (2 MiB) is past what is parsed.  The commands change the ticket; the copy
# the customer gets has none of them in any part that shows text, outside
# quoted text, read by Python's email and html packages; the prose is still
# there; and the oversized HTML part is replaced by one that says so.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
S=tests/fixtures/staff-html
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.1'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
msgid() { sed -n 's/^Message-I[Dd]: *<\(.*\)>.*/\1/p' "$1" | head -n 1; }

# copy MSGID PROSE [NOTE]: the copy of MSGID delivered to jan@acme.test.
# Prints "clean" when no part that shows text has "#status" or "#severity"
# outside quoted text (a "> " line, a <blockquote>), PROSE is in each, and
# NOTE (when given) is in its HTML part; else what is wrong; nothing while
# the copy has not arrived.
copy() {
    python3 - "$SINK_DIR" "$@" <<'PY'
import email, email.policy, glob, html.parser, re, sys

sink, msgid, prose = sys.argv[1:4]
note = sys.argv[4] if len(sys.argv) > 4 else None
BLOCKS = {"p", "div", "br", "li", "tr", "pre", "table", "h1", "h2", "h3"}
HIDDEN = {"script", "style", "head", "title"}

class Text(html.parser.HTMLParser):
    # The text of the markup, quoted blocks left out: what is quoted may
    # say anything.
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.hidden, self.quoted = [], 0, 0
    def handle_starttag(self, tag, attrs):
        self.hidden += tag in HIDDEN
        self.quoted += tag == "blockquote"
        if tag in BLOCKS:
            self.out.append("\n")
    def handle_endtag(self, tag):
        self.hidden -= tag in HIDDEN
        self.quoted -= tag == "blockquote"
        if tag in BLOCKS:
            self.out.append("\n")
    def handle_data(self, data):
        if not self.hidden and not self.quoted:
            self.out.append(data)

copy = None
for path in sorted(glob.glob(sink + "/*")):
    raw = open(path, "rb").read()
    if b"X-Rcpt-Args: <jan@acme.test>" not in raw:
        continue
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if (m.get("Message-ID") or "").strip().strip("<>") == msgid:
        copy = m
if copy is None:
    sys.exit(0)
shown = 0
for part in copy.walk():
    if part.is_multipart() or part.get_content_type() not in ("text/plain", "text/html"):
        continue
    if part.get_content_disposition() == "attachment" or part.get_filename():
        continue
    shown += 1
    what, text = part.get_content_type(), part.get_content()
    if what == "text/html":
        if note is not None and note not in text:
            print("%s lacks the note %r" % (what, note))
            sys.exit(0)
        t = Text()
        t.feed(text)
        t.close()
        text = "".join(t.out).replace("\xa0", " ")
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        found = re.search(r"#(status|severity)\b", line)
        if found:
            print("%s still has %s in %r" % (what, found.group(0), line.strip()))
            sys.exit(0)
    if prose not in " ".join(text.split()):
        print("%s lost %r" % (what, prose))
        sys.exit(0)
print("clean" if shown > 0 else "no part shows text")
PY
}
arrived() { copy "$@" | wc -l; }

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"

EN="We found the cause"

# reply FIXTURE STATUS SEVERITY: from a trusted client to the customer with
# support in Cc; the commands apply, the customer's copy is clean.
reply() {
    id=$(msgid "$1")
    send_mail "$1" --to jan@acme.test,support@example.com
    ok $? "$(basename "$1"): accepted from a trusted client"
    is "$(field TKT-1 'd["status"]')" "$2" "$(basename "$1"): the ticket is $2"
    is "$(field TKT-1 'd["severity"]')" "$3" "$(basename "$1"): at severity $3"
    wait_for 1 20 arrived "$id" "$EN" ${4:+"$4"}
    is "$(copy "$id" "$EN" ${4:+"$4"})" "clean" \
        "$(basename "$1"): no command in any part of the customer's copy, the preheader included"
}

reply "$S/outlook-reply-preheader-en.eml" pending 2
reply "$S/gmail-reply-preheader-en.eml" open 2

# An HTML part of 2 MiB: not parsed, replaced by one that says so and shows
# the plain part's text without its commands.
python3 - "$E2E_DIR/oversized.eml" <<'PY'
import sys
tail = "<div class=x style='color:#333'><span>row</span></div>\n" * 40000
open(sys.argv[1], "w").write(
    "From: Lead <lead@example.com>\nTo: Jan Jansen <jan@acme.test>\n"
    "Cc: support@example.com\nSubject: Re: [TKT-1] Checkout page returns error 500\n"
    "Message-ID: <oversized-html-1@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
    "Content-Type: text/plain; charset=utf-8\n\n#status pending\n#severity 3\n\n"
    "Hello Jan,\n\nWe found the cause: the certificate had expired.\n--b\n"
    "Content-Type: text/html; charset=utf-8\n\n<p>#status pending<br>#severity 3</p>"
    "<p>Hello Jan,</p><p>We found the cause: the certificate had expired.</p>\n"
    + tail + "--b--\n")
PY
reply "$E2E_DIR/oversized.eml" pending 3 "The HTML version of this message was longer than 1024 KiB"
copy_file=$(grep -l "oversized-html-1@example.com" "$SINK_DIR"/* | xargs grep -l "X-Rcpt-Args: <jan@acme.test>" | head -n 1)
size=$(wc -c <"$copy_file")
ok $([ "$size" -lt 100000 ]; echo $?) "the customer's copy of it is small ($size bytes): nothing of the 2 MiB is sent"
like "$(sql "SELECT text FROM messages WHERE message_id = 'oversized-html-1@example.com'")" \
    "the certificate had expired" "the ticket keeps the reply's text"

done_testing
