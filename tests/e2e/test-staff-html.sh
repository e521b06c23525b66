#!/bin/sh
# Staff replies as Outlook, Gmail, Apple Mail and Thunderbird send them
# (tests/fixtures/staff-html: plain and HTML, HTML only, inline images, an
# attachment; quoted-printable, base64, 8bit; English and Dutch), sent from
# a trusted client to the customer with support in Cc: their command lines
# change the ticket, and the customer's copy has none left in any part,
# read by Python's email package with every part decoded and the HTML
# turned into text.  A "#status closed" that is only quoted or forwarded
# changes nothing and reaches the customer as written; the same reply from
# an untrusted client changes nothing either.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
S=tests/fixtures/staff-html
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.1
[escalation]
stage1 = lead@example.com
stage2 = am@example.com
stage3 = director@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
msgid() { sed -n 's/^Message-I[Dd]: *<\(.*\)>.*/\1/p' "$1" | head -n 1; }

# copy MODE MSGID [PROSE]: looks at the copy of MSGID delivered to
# jan@acme.test.  MODE "none" prints "clean" when no part that shows the
# message (text/plain, text/html, no attachment, not inside a forwarded
# message) has a command line, decoded and, for HTML, neither in the markup
# nor in its text, and PROSE is in each; MODE "kept" prints "kept" when
# "#status closed" is still in some part.  Anything else says what is
# wrong; nothing is printed while the copy has not arrived.
copy() {
    python3 - "$SINK_DIR" "$@" <<'PY'
import email, email.policy, glob, html.parser, re, sys

sink, mode, msgid = sys.argv[1:4]
prose = sys.argv[4] if len(sys.argv) > 4 else ""
COMMAND = re.compile(r"^[ \t]*#[A-Za-z]")
BLOCKS = {"p", "div", "br", "li", "tr", "blockquote", "pre", "table", "ul", "ol", "hr",
          "h1", "h2", "h3", "h4", "h5", "h6"}
HIDDEN = {"script", "style", "head", "title"}

class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.hidden = [], 0
    def handle_starttag(self, tag, attrs):
        self.hidden += tag in HIDDEN
        if tag in BLOCKS:
            self.out.append("\n")
    def handle_endtag(self, tag):
        self.hidden -= tag in HIDDEN
        if tag in BLOCKS:
            self.out.append("\n")
    def handle_data(self, data):
        if not self.hidden:
            self.out.append(data)

def html_text(markup):
    t = Text()
    t.feed(markup)
    t.close()
    return "".join(t.out).replace("\xa0", " ")

def leaves(part):
    # A forwarded message is an attachment, not what the sender wrote.
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for p in part.iter_parts():
        yield from leaves(p)

copy = None
for path in sorted(glob.glob(sink + "/*")):
    with open(path, "rb") as f:
        raw = f.read()
    if b"X-Rcpt-Args: <jan@acme.test>" not in raw:
        continue
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if (m.get("Message-ID") or "").strip().strip("<>") == msgid:
        copy = m
if copy is None:
    sys.exit(0)

if mode == "kept":
    texts = [p.get_payload(decode=True) or b"" for p in copy.walk() if not p.is_multipart()]
    print("kept" if any(b"#status closed" in t for t in texts) else "#status closed is gone")
    sys.exit(0)

shown = 0
for part in leaves(copy):
    if part.get_content_maintype() != "text" or part.get_content_subtype() not in ("plain", "html"):
        continue
    if part.get_content_disposition() == "attachment" or part.get_filename():
        continue
    shown += 1
    what = part.get_content_type()
    content = part.get_content()
    text = content
    if part.get_content_subtype() == "html":
        found = re.search(r"#(status|severity|assign)\b", content)
        if found:
            print("%s markup still has %s" % (what, found.group(0)))
            sys.exit(0)
        text = html_text(content)
    for line in text.splitlines():
        if COMMAND.match(line):
            print("%s has the line %r" % (what, line))
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
is "$(field TKT-1 'd["severity"]')" "3" "at the default severity"

EN="We found the cause"
NL="We hebben de oorzaak gevonden"

# reply FIXTURE STATUS SEVERITY PROSE: sent from a trusted client, its
# commands make the ticket STATUS and SEVERITY; the customer's copy is clean.
reply() {
    id=$(msgid "$S/$1")
    send_mail "$S/$1" --to jan@acme.test,support@example.com
    ok $? "$1: accepted from a trusted client"
    is "$(field TKT-1 'd["status"]')" "$2" "$1: the ticket is $2"
    is "$(field TKT-1 'd["severity"]')" "$3" "$1: at severity $3"
    wait_for 1 20 arrived none "$id" "$4"
    is "$(copy none "$id" "$4")" "clean" "$1: no command line in any part of the customer's copy"
}

reply outlook-reply-en.eml pending 2 "$EN"
reply outlook-reply-nl.eml open 3 "$NL"
reply outlook-html-only-en.eml pending 4 "$EN"
reply gmail-reply-en.eml open 2 "$EN"
reply gmail-reply-base64-nl.eml pending 3 "$NL"
reply apple-mail-reply-en.eml open 4 "$EN"
reply apple-mail-reply-nl.eml pending 2 "$NL"
reply thunderbird-reply-nl.eml open 3 "$NL"
reply thunderbird-reply-with-attachment-en.eml pending 4 "$EN"
like "$(field TKT-1 '[e["type"] for e in d["events"]]')" '"assign"' \
    "#assign in the Gmail reply applied"
copy_file=$(grep -l "a7d3f9c1-5e2b-4806-b9a4-3c1e7f2d8b60@example.com" "$SINK_DIR"/* | head -n 1)
like "$(cat "$copy_file")" 'filename="incident-report.pdf"' "the attachment goes along"

# Only quoted or forwarded: nothing applies, nothing is taken out.
for f in gmail-reply-quoted-status-closed-en.eml apple-mail-reply-below-quote-nl.eml \
    outlook-forward-status-closed-nl.eml forward-only-status-closed-en.eml; do
    id=$(msgid "$S/$f")
    send_mail "$S/$f" --to jan@acme.test,support@example.com
    ok $? "$f: accepted"
    is "$(field TKT-1 'd["status"]')" "pending" "$f: the quoted #status closed does not apply"
    is "$(field TKT-1 'd["severity"]')" "4" "$f: nor does anything else change"
    wait_for 1 20 arrived kept "$id"
    is "$(copy kept "$id")" "kept" "$f: the customer's copy keeps the quote as written"
done

# The same reply from an untrusted client.
sed 's/^Message-ID: <.*>/Message-ID: <forged-html-1@example.com>/' "$S/outlook-reply-nl.eml" \
    >"$E2E_DIR/forged.eml"
send_mail "$E2E_DIR/forged.eml" --to jan@acme.test,support@example.com \
    --local-interface 127.0.0.2
ok $? "the Outlook reply from an untrusted client is accepted"
is "$(field TKT-1 'd["status"]')" "pending" "it does not change the status"
is "$(field TKT-1 'd["severity"]')" "4" "nor the severity"
is "$(sql "SELECT kind FROM messages WHERE message_id = 'forged-html-1@example.com'")" \
    "untrusted-staff" "it is stored as untrusted staff mail"
wait_for 1 20 arrived none forged-html-1@example.com "$NL"
is "$(copy none forged-html-1@example.com "$NL")" "clean" \
    "its command lines do not reach the customer either"

done_testing
