#!/usr/bin/env python3
"""hostile-mail.py DIR - writes messages shaped to make a parser slow.

Each file is named for its shape; bench/parser.sh times parser_mail_parse()
on every one of them against the budget of 100 ms per message.  The shapes
are the ones a sender can choose at no cost to himself: header values of
hundreds of kilobytes made of RFC 2047 encoded words (one charset, several,
broken ones, B and Q mixed, folded), address lists and msg-id lists of
thousands of entries, and a header block of a megabyte.
"""
import os
import sys

KB = 1024


def repeat_to(piece, size):
    """PIECE repeated until the result is at least SIZE bytes."""
    return piece * (size // len(piece) + 1)


def fold(words, width=76):
    """WORDS joined by blanks, folded into continuation lines."""
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = w if not line else line + " " + w
    lines.append(line)
    return "\n ".join(lines)


def message(headers, body="Hello support.\n", content_type="text/plain; charset=utf-8"):
    base = [
        ("From", "Anna <anna@klant.example>"),
        ("To", "support@help.example"),
        ("Subject", "A hostile message"),
        ("Date", "Wed, 05 Mar 2025 09:30:00 +0100"),
        ("Message-ID", "<hostile@klant.example>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    ]
    names = {n.lower() for n, _ in headers}
    out = [(n, v) for n, v in base if n.lower() not in names] + headers
    return "".join("%s: %s\n" % (n, v) for n, v in out) + "\n" + body


def subject(piece, size, folded=False):
    if folded:
        words = repeat_to(piece, size).split(" ")
        return [("Subject", fold(words))]
    return [("Subject", repeat_to(piece, size))]


def shapes():
    q = "=?utf-8?q?a?= "
    charsets = "=?utf-8?q?a?= =?iso-8859-1?q?=E9?= =?windows-1252?q?=80?= =?koi8-r?q?=C1?= "
    broken = "=?utf-8?q?a? =?utf-8?z?a?= =?=?utf-8?q?a?= =?utf-8?b?w?==?= =?utf-8?q?=C3?= "
    bq = "=?UTF-8?B?w6k=?= =?utf-8?Q?=C3=A9?= "
    split = "=?utf-8?b?w?= =?utf-8?b?qQ==?= "  # one character split across two words
    yield "subject-q-100k", message(subject(q, 100 * KB))
    yield "subject-q-200k", message(subject(q, 200 * KB))
    yield "subject-charsets-100k", message(subject(charsets, 100 * KB))
    yield "subject-charsets-200k", message(subject(charsets, 200 * KB))
    yield "subject-broken-100k", message(subject(broken, 100 * KB))
    # A broken word in every fragment: GMime's lenient decoder read to the
    # end of the value again for each.
    yield "subject-broken-200k", message(subject(broken, 200 * KB))
    yield "subject-bq-100k", message(subject(bq, 100 * KB))
    yield "subject-bq-200k", message(subject(bq, 200 * KB))
    yield "subject-split-200k", message(subject(split, 200 * KB))
    yield "subject-folded-200k", message(subject(q, 200 * KB, folded=True))
    yield "subject-plain-1m", message(subject("word ", 1024 * KB, folded=True))

    addrs = ["=?utf-8?q?Customer_=C3=A9_%d?= <c%d@klant.example>" % (i, i) for i in range(10000)]
    yield "from-10000", message([("From", fold([a + "," for a in addrs])[:-1])])
    quoted = ['"x,victim%d@other.test,\\"y\\"" <q%d@evil.test>' % (i, i) for i in range(10000)]
    yield "to-10000-quoted", message([("To", fold([a + "," for a in quoted])[:-1])])
    groups = ["team%d: a%d@klant.example, (c) b%d@klant.example;" % (i, i, i) for i in range(5000)]
    yield "cc-5000-groups", message([("Cc", fold(groups))])

    ids = ["<id-%d.%d@klant.example>" % (i, i * 7919) for i in range(20000)]
    yield "references-20000", message([("References", fold(ids))])
    yield "in-reply-to-20000", message([("In-Reply-To", fold(ids))])
    yield "message-id-100k", message([("Message-ID", "<" + "m" * (100 * KB) + "@klant.example>")])
    yield "list-id-100k", message([("List-Id", fold(repeat_to("=?utf-8?q?l?= ", 100 * KB).split()))])
    resinfo = "dkim=pass (c) header.d=klant.example header.s=s1; "
    yield "auth-results-100k", message(
        [("Authentication-Results", "mx.help.example; " + fold(repeat_to(resinfo, 100 * KB).split()))])
    yield "loop-100k", message([("X-Ticket-Loop", fold(repeat_to("=?utf-8?q?x?= ", 100 * KB).split()))])

    # A megabyte of header block: the field count is capped, the size of
    # each field is not.
    many = [("X-Filler-%d" % i, "=?utf-8?q?f?= " * 3) for i in range(20000)]
    yield "header-block-1m-fields", message(many)
    long_fields = [("Received", fold(repeat_to("from relay%d.example (1.2.3.4) by mx " % i, KB).split()))
                   for i in range(1000)]
    yield "header-block-1m-long", message(long_fields)

    # GMime's quadratic shapes, each 100 KB, all in one message and again
    # in a forwarded message inside it.
    worst = [("Subject", repeat_to("=?utf-8?q?a ", 100 * KB)),
             ("From", repeat_to('"a, ', 100 * KB)),
             ("To", repeat_to("a, ", 100 * KB)),
             ("Cc", repeat_to("a:", 100 * KB)),
             ("Reply-To", repeat_to('@ "a, a, a, a, a, a", ', 100 * KB)),
             ("References", fold(ids)),
             ("List-Id", repeat_to("=?a?q?a", 100 * KB))]
    inner = "".join("%s: %s\n" % kv for kv in worst) + "\ninner\n"
    yield "all-shapes-at-once", message(
        worst, body="--w\nContent-Type: text/plain\n\nsee below\n--w\nContent-Type: message/rfc822\n\n"
        + inner + "--w--\n", content_type='multipart/mixed; boundary="w"')
    yield "unterminated-words-100k", message(subject("=?utf-8?q?a ", 100 * KB))
    yield "unterminated-words-200k", message(subject("=?utf-8?q?a ", 200 * KB))
    yield "names-list-100k", message([("To", repeat_to("a b, ", 100 * KB))])
    yield "group-nesting-100k", message([("To", repeat_to("a:", 100 * KB))])

    # GMime builds every part, however many the walk looks at.
    empty = "".join("--p\n\nx\n" for _ in range(60000))
    yield "empty-parts-60000", message([], body="--p\nContent-Type: text/plain\n\ntext\n" + empty + "--p--\n",
                                       content_type='multipart/mixed; boundary="p"')
    tiny = "".join('--p\nContent-Type: image/gif\nContent-Disposition: attachment; filename="d%d.gif"\n\nGIF89a\n' % i
                   for i in range(6000))
    yield "tiny-attachments-6000", message([], body="--p\nContent-Type: text/plain\n\ntext\n" + tiny + "--p--\n",
                                           content_type='multipart/mixed; boundary="p"')

    status = "".join("Final-Recipient: rfc822; r%d@klant.example\nAction: failed\nStatus: 5.1.1\n\n" % i
                     for i in range(10000))
    report = ("--d\nContent-Type: text/plain\n\nUndeliverable.\n"
              "--d\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.klant.example\n\n"
              + status +
              "--d\nContent-Type: text/rfc822-headers\n\nMessage-ID: " + fold(ids) + "\n--d--\n")
    yield "dsn-10000-recipients", message(
        [("From", "MAILER-DAEMON@mx.klant.example")], body=report,
        content_type='multipart/report; report-type=delivery-status; boundary="d"')


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, text in shapes():
        with open(os.path.join(out, name + ".eml"), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
