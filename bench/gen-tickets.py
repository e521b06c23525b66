#!/usr/bin/env python3
"""Fills a ticket-milter database with a history of generated tickets.

  gen-tickets.py DB [--tickets N] [--years Y] [--seed S]

DB must already have the schema (start ticket-milter on it once, or run
ticketctl against it); this script writes rows, it never creates tables.
The rows look like what the daemon writes over Y years (default 3) of
support mail:

  tickets   N, ids after any already there; created evenly over the
            years; the old ones closed or resolved, those of the last 30
            days open, pending or resolved; severities 1-4 (2/10/60/28 %),
            stage by severity, about 300 customers and 30 000 requesters;
  messages  the customer's first mail (raw bytes and text), a staff reply
            for most tickets, a customer follow-up for some (~2 a ticket);
  events    created, severity, mail-queued, mail-sent, staff-reply,
            first-response, customer-reply, status (~6 a ticket);
  outbox    the acknowledgement of each ticket, sent;
  timers    response, update and resolution warnings and breaches, fired
            when their time has passed or the ticket is done.

Speed: one transaction in a rollback journal, synchronous off, and the
secondary indexes dropped during the load and created again at the end
(the same CREATE INDEX statements the schema has).  One million tickets
take a few minutes and some 3 GB.
"""
import argparse
import datetime as dt
import hashlib
import random
import sqlite3
import sys
import time

SUBJECTS = [
    "Checkout page returns error 500", "Cannot log in to the portal", "Invoice %d is wrong",
    "Slow response times on the API", "Export job fails every night", "Password reset mail not arriving",
    "Question about our contract", "Feature request: CSV export", "Storing orders fails with timeout",
    "Report %d shows no data", "Certificate expires soon", "Backup job reported errors",
    "Documentation unclear about webhooks", "Mobile app crashes on start", "Dashboard is empty",
    "Storing na update werkt niet", "Factuur %d klopt niet", "Vraag over de koppeling",
]
LINES = [
    "Since this morning the page shows an error when customers try to pay.",
    "We have tried again after clearing the cache, with the same result.",
    "The log on our side says the request timed out after 30 seconds.",
    "This affects all of our users in the Amsterdam office.",
    "Could you please look into it as soon as possible?",
    "Attached is a screenshot of the message we get.",
    "Sinds vanochtend krijgen we een foutmelding bij het opslaan.",
    "Is there a workaround we can use in the meantime?",
    "Order numbers 48213 and 48214 are affected, maybe more.",
    "We did not change anything in our configuration.",
]
STAFF_LINES = [
    "Thank you for your report. We are looking into it.",
    "We have found the cause and deployed a fix; please check again.",
    "Could you send us the exact time the error occurred?",
    "The workaround is to use the old export until the fix is released.",
]
SEVERITIES = [1] * 2 + [2] * 10 + [3] * 60 + [4] * 28
RESPONSE_GOAL = {1: 3600, 2: 7200, 3: 3 * 86400, 4: 5 * 86400}


def iso(t):
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(t):
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def index_for_search(db):
    """The rows written as the daemon's indexer would have indexed them by
    now (schema 10 on; before it, the database's triggers did it)."""
    if not db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'fts_indexed'").fetchone()[0]:
        return
    print("gen-tickets: indexing the new rows for search", file=sys.stderr, flush=True)
    for table, cols in (("tickets", "subject"), ("messages", "subject, text")):
        last = db.execute("SELECT last_id FROM fts_indexed WHERE name = ?", (table,)).fetchone()[0]
        db.execute("INSERT INTO %s_fts (rowid, %s) SELECT id, %s FROM %s WHERE id > ?"
                   % (table, cols, cols, table), (last,))
        db.execute("UPDATE fts_indexed SET last_id = (SELECT coalesce(max(id), 0) FROM %s)"
                   " WHERE name = ?" % table, (table,))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--tickets", type=int, default=1000000)
    p.add_argument("--years", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    rnd = random.Random(a.seed)

    db = sqlite3.connect(a.db, isolation_level=None)
    have = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'tickets'").fetchone()[0]
    if not have:
        sys.exit("gen-tickets: %s has no schema; start ticket-milter on it once first" % a.db)
    # The daemon is not running: a rollback journal (nothing to keep for
    # pages that are new) instead of writing every page to the WAL and then
    # again at the checkpoint.  WAL again at the end, as the daemon left it.
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    db.execute("PRAGMA foreign_keys = OFF")
    first = (db.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1
    msg_id0 = (db.execute("SELECT max(id) FROM messages").fetchone()[0] or 0) + 1

    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                         " AND tbl_name IN ('tickets', 'messages', 'events', 'outbox', 'timers')").fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute('DROP INDEX "%s"' % name)

    customers = ["acme", "bakker"] + ["cust%03d" % i for i in range(300)]
    domains = {"acme": "acme.test", "bakker": "bakker.nl"}
    for c in customers[2:]:
        domains[c] = c + ".test"
    requesters = {c: (["customer@acme.test"] if c == "acme" else []) +
                  ["user%03d@%s" % (k, domains[c]) for k in range(100)] for c in customers}
    staff = ["anna@example.com", "bram@example.com", "chris@example.com", "dina@example.com"]
    now = time.time()
    start = now - a.years * 365 * 86400
    span = now - 30 * 86400 - start  # the last 30 days hold the open tickets
    n = a.tickets
    t_begin = time.time()

    tickets, messages, events, outbox, timers = [], [], [], [], []
    counts = dict(tickets=0, messages=0, events=0, outbox=0, timers=0)
    mid = msg_id0

    def flush():
        db.executemany(
            "INSERT INTO tickets (id, prefix, status, severity, stage, customer, requester, subject,"
            " created_at, updated_at, first_response_due, first_response_at, next_update_due,"
            " resolution_due, resolved_at, plan, timezone, language, assignee, paused_at, paused_seconds)"
            " VALUES (?, 'TKT', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)", tickets)
        db.executemany(
            "INSERT INTO messages (id, ticket_id, dedup_key, message_id, digest, direction, kind,"
            " from_addr, to_addrs, cc_addrs, subject, in_reply_to, refs, text, raw, received_at,"
            " queue_id, envelope_from, client_addr)"
            " VALUES (?, ?, ?, ?, ?, 'in', ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages)
        db.executemany("INSERT INTO events (ticket_id, at, type, actor, detail) VALUES (?, ?, ?, ?, ?)",
                       events)
        db.executemany(
            "INSERT INTO outbox (ticket_id, kind, template, transport, mail_from, recipients, message_id,"
            " body, status, attempts, created_at, next_attempt_at, sent_at, queued_us, sent_us)"
            " VALUES (?, 'ack', 'ack-new', 'smtp', '', ?, ?, ?, 'sent', 1, ?, ?, ?, ?, ?)", outbox)
        db.executemany("INSERT INTO timers (ticket_id, kind, due_at, fired_at) VALUES (?, ?, ?, ?)", timers)
        for k, rows in (("tickets", tickets), ("messages", messages), ("events", events),
                        ("outbox", outbox), ("timers", timers)):
            counts[k] += len(rows)
            rows.clear()

    for k in range(n):
        tid = first + k
        recent = k >= n * 0.985
        if recent:
            created = now - 30 * 86400 + (k - n * 0.985) / (n * 0.015) * (30 * 86400 - 600)
        else:
            created = start + span * k / n + rnd.random() * 60
        cust = customers[0] if rnd.random() < 0.05 else rnd.choice(customers)
        known = rnd.random() < 0.95
        requester = rnd.choice(requesters[cust]) if known else "someone%d@mail%d.test" % (
            rnd.randint(1, 99), rnd.randint(1, 5000))
        sev = rnd.choice(SEVERITIES)
        stage = {1: 2, 2: 1}.get(sev, 0)
        subject = rnd.choice(SUBJECTS)
        if "%d" in subject:
            subject = subject % rnd.randint(1000, 99999)
        if recent:
            status = rnd.choice(["open", "open", "pending", "resolved"])
        else:
            status = "closed" if rnd.random() < 0.95 else "resolved"
        goal = RESPONSE_GOAL[sev]
        fr_due = created + goal
        answered = status != "open" or rnd.random() < 0.5
        fr_at = min(created + rnd.random() * goal * 0.9, now - 120) if answered else None
        nu_due = (fr_at or created) + 2 * goal
        res_due = created + 20 * goal
        done = status in ("resolved", "closed")
        resolved_at = (fr_at or created) + rnd.random() * 10 * goal if done else None
        if resolved_at is not None and resolved_at > now:
            resolved_at = now - 60
        updated = resolved_at or fr_at or created
        plan = "extended" if rnd.random() < 0.3 else "standard"
        lang = "nl" if cust == "bakker" or rnd.random() < 0.2 else "en"
        tickets.append((tid, status, sev, stage, cust if known else None, requester, subject,
                        iso(created), iso(updated), iso(fr_due), iso(fr_at) if fr_at else None,
                        iso(nu_due), iso(res_due), iso(resolved_at) if resolved_at else None,
                        plan, "Europe/Amsterdam", lang, rnd.choice(staff) if answered else None))

        # The customer's mail.
        body = "\n".join(rnd.sample(LINES, 4)) + "\n\nKind regards,\n" + requester.split("@")[0] + "\n"
        message_id = "%x.%d@%s" % (tid * 2654435761 % 2 ** 40, tid, requester.split("@")[1])
        qid = "%011X" % (tid * 7919 % 16 ** 11)
        raw = ("Received: from mail.%s (mail.%s [192.0.2.%d])\n\tby mx.example.com (Postfix) with ESMTPS"
               " id %s\n\tfor <support@example.com>; %s\nFrom: <%s>\nTo: support@example.com\n"
               "Subject: %s\nMessage-ID: <%s>\nDate: %s\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\n\n%s") % (
            requester.split("@")[1], requester.split("@")[1], tid % 250 + 1, qid, rfc2822(created),
            requester, subject, message_id, rfc2822(created), body)
        digest = hashlib.sha256(raw.encode()).hexdigest()
        messages.append((mid, tid, message_id, message_id, digest, "customer", requester,
                         "support@example.com", subject, None, None, body, raw.encode(), iso(created),
                         qid, requester, "192.0.2.%d" % (tid % 250 + 1)))
        mid += 1
        ack_id = "tm.%d.%016x@tickets.example.com" % (int(created * 1e6), tid * 11400714819323198485 % 2 ** 64)
        events.append((tid, iso(created), "created", requester,
                       '{"message_id":"%s","queue_id":"%s","requester":"%s","customer":%s,'
                       '"reason":"new message from a %s"}' % (
                           message_id, qid, requester, '"%s"' % cust if known else "null",
                           "customer" if known else "sender we do not know")))
        events.append((tid, iso(created), "severity", None, '{"severity":"%d","rule":"plan default"}' % sev))
        events.append((tid, iso(created), "mail-queued", requester,
                       '{"template":"ack-new","message_id":"%s"}' % ack_id))
        events.append((tid, iso(created + 1), "mail-sent", None, '{"message_id":"%s"}' % ack_id))
        ack_body = ("From: Support <support@example.com>\nTo: %s\nSubject: [TKT-%d] Received: %s\n"
                    "Message-ID: <%s>\nIn-Reply-To: <%s>\nAuto-Submitted: auto-replied\n\n"
                    "We have received your message and opened ticket TKT-%d.\n\nSeverity:  %d\n"
                    "Response:  by %s\n\nReply to this mail to add information.\n") % (
            requester, tid, subject, ack_id, message_id, tid, sev, rfc2822(fr_due))
        outbox.append((tid, requester, ack_id, ack_body, iso(created), iso(created), iso(created + 1),
                       int(created * 1e6), int(created * 1e6) + 40000))

        # The staff reply, and sometimes a follow-up from the customer.
        if fr_at is not None:
            s = rnd.choice(staff)
            sbody = "\n".join(rnd.sample(STAFF_LINES, 2)) + "\n\n-- \n" + s.split("@")[0] + ", support\n"
            smid = "staff.%d.%d@example.com" % (tid, int(fr_at))
            sraw = ("From: <%s>\nTo: %s\nCc: support@example.com\nSubject: Re: [TKT-%d] %s\n"
                    "Message-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s>\nDate: %s\n\n%s") % (
                s, requester, tid, subject, smid, message_id, message_id, rfc2822(fr_at), sbody)
            messages.append((mid, tid, smid, smid, hashlib.sha256(sraw.encode()).hexdigest(), "staff", s,
                             requester + ", support@example.com", "Re: [TKT-%d] %s" % (tid, subject),
                             message_id, "<%s>" % message_id, sbody, sraw.encode(), iso(fr_at),
                             "%011X" % (tid * 104729 % 16 ** 11), s, "10.0.0.5"))
            mid += 1
            events.append((tid, iso(fr_at), "staff-reply", s, '{"message_id":"%s"}' % smid))
            events.append((tid, iso(fr_at), "first-response", s, '{"by":"%s"}' % s))
            if rnd.random() < 0.3:
                ft = min(fr_at + rnd.random() * goal, now - 60)
                fbody = "Thank you, " + rnd.choice(LINES) + "\n"
                fmid = "f%x.%d@%s" % (tid, int(ft), requester.split("@")[1])
                fraw = ("From: <%s>\nTo: support@example.com\nSubject: Re: [TKT-%d] %s\n"
                        "Message-ID: <%s>\nIn-Reply-To: <%s>\nDate: %s\n\n%s") % (
                    requester, tid, subject, fmid, smid, rfc2822(ft), fbody)
                messages.append((mid, tid, fmid, fmid, hashlib.sha256(fraw.encode()).hexdigest(),
                                 "customer", requester, "support@example.com",
                                 "Re: [TKT-%d] %s" % (tid, subject), "<%s>" % smid, "<%s>" % smid, fbody,
                                 fraw.encode(), iso(ft), "%011X" % (tid * 15485863 % 16 ** 11),
                                 requester, "192.0.2.%d" % (tid % 250 + 1)))
                mid += 1
                events.append((tid, iso(ft), "customer-reply", requester, '{"message_id":"%s"}' % fmid))
        if done:
            events.append((tid, iso(resolved_at), "status", rnd.choice(staff),
                           '{"from":"open","to":"%s"}' % status))

        # Timers: a goal's warning at 75 %, its breach at 100 %.
        for kind, due, base in (("response", fr_due, created), ("update", nu_due, fr_at or created),
                                ("resolution", res_due, created)):
            warn = base + (due - base) * 0.75
            for suffix, at in (("warning", warn), ("breach", due)):
                if done or at <= now or (kind == "response" and fr_at is not None):
                    fired = iso(min(at, now - 1))
                else:
                    fired = None
                timers.append((tid, "%s-%s" % (kind, suffix), iso(at), fired))

        if len(tickets) >= 20000:
            flush()
            el = time.time() - t_begin
            print("gen-tickets: %d tickets (%.0f s)" % (k + 1, el), file=sys.stderr, flush=True)
    flush()
    print("gen-tickets: creating the indexes again", file=sys.stderr, flush=True)
    for _, sql in indexes:
        db.execute(sql)
    index_for_search(db)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = %s" % mode)
    db.close()
    print("tickets %d messages %d events %d outbox %d timers %d seconds %.0f" % (
        counts["tickets"], counts["messages"], counts["events"], counts["outbox"], counts["timers"],
        time.time() - t_begin))


if __name__ == "__main__":
    main()
