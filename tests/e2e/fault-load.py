#!/usr/bin/env python3
"""Load and accounting for the fault tests and the session benchmark.

  fault-load.py send --port P --prefix NAME --out FILE
                     [--count N | --seconds S] [--sessions K] [--retry SECONDS]
                     [--size BYTES] [--from ADDR] [--to ADDR]
      Sends mail through Postfix's milter port in K parallel SMTP sessions
      (python smtplib): N numbered messages, or as many as fit in S seconds.
      Every message has a Message-ID of its own, <NAME-i.RUN@acme.test>.
      A session is kept open from message to message and opened anew after
      any error.  With --retry a message that got a 4xx answer (or lost its
      connection) is sent again, as a sending MTA would, for up to that many
      seconds; a 5xx answer is final.  FILE gets one JSON object: for each
      message its id and every answer it got.  The summary goes to stdout
      as "key value" lines.

  fault-load.py check --db DB --sink DIR --sent FILE [--prefix NAME]
      The accounting: what the sender was told, what reached the support
      mailbox (the sink), and what the database holds, as "key value" lines.
"""
import argparse
import collections
import email.utils
import glob
import json
import os
import smtplib
import socket
import sqlite3
import sys
import threading
import time


def body_text(i, size):
    line = "The service behind order %d is failing again, please have a look.\n" % i
    return (line * (size // len(line) + 1))[:size]


def message(prefix, run, date, i, size, frm, to):
    """The message numbered I, the same bytes at every attempt (as a
    sending MTA resends its queue file)."""
    mid = "%s-%d.%s@acme.test" % (prefix, i, run)
    text = (
        "From: Customer <%s>\r\n"
        "To: %s\r\n"
        "Subject: %s load message %d\r\n"
        "Message-ID: <%s>\r\n"
        "Date: %s\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n%s"
    ) % (frm, to, prefix, i, mid, date, body_text(i, size).replace("\n", "\r\n"))
    return mid, text


def answer_of(exc):
    """The SMTP answer an exception stands for: (code, text); code 0 when
    the connection was lost or refused."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return code, text
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, exc.smtp_error
    return 0, repr(exc).encode()


def send(a):
    run = "%x%x" % (int(time.time()), os.getpid())
    date = email.utils.formatdate()
    lock = threading.Lock()
    answers = collections.OrderedDict()  # message number -> [(code, text)]
    queue = collections.deque()  # (number, not_before)
    counter = [0]
    deadline = time.time() + a.seconds if a.seconds else None
    if not a.seconds:
        queue.extend((i, 0.0) for i in range(a.count))
    in_flight = [0]
    t_start = time.time()
    retry_end = [None]  # the retry window starts when the first load is done

    def next_job():
        """A message number to send, None when there is nothing left."""
        while True:
            with lock:
                now = time.time()
                if deadline is not None:
                    if queue:
                        i, nb = queue[0]
                        if nb <= now:
                            queue.popleft()
                            in_flight[0] += 1
                            return i
                    elif now < deadline:
                        i = counter[0]
                        counter[0] += 1
                        in_flight[0] += 1
                        return i
                    elif not queue and in_flight[0] == 0:
                        return None
                else:
                    if queue:
                        i, nb = queue[0]
                        if nb <= now:
                            queue.popleft()
                            in_flight[0] += 1
                            return i
                        # rotate so a waiting retry does not block fresh work
                        queue.rotate(-1)
                    elif in_flight[0] == 0:
                        return None
            time.sleep(0.02)

    def worker():
        conn = None
        while True:
            i = next_job()
            if i is None:
                break
            mid, text = message(a.prefix, run, date, i, a.size, a.frm, a.to)
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", a.port, timeout=60)
                    conn.ehlo("client.acme.test")
                conn.sendmail(a.frm, [a.to], text.encode())
                result = (250, b"")
            except (smtplib.SMTPException, OSError) as exc:
                result = answer_of(exc)
                try:
                    if conn is not None:
                        conn.close()
                except Exception:
                    pass
                conn = None
            with lock:
                answers.setdefault(i, []).append((result[0], result[1].decode("utf-8", "replace")))
                in_flight[0] -= 1
                code = result[0]
                if code != 250 and code < 500 and a.retry:
                    now = time.time()
                    if retry_end[0] is None:
                        retry_end[0] = now + a.retry
                    if now < retry_end[0]:
                        queue.append((i, now + 0.3))
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                pass

    threads = [threading.Thread(target=worker) for _ in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t_start

    msgs = []
    for i, ans in answers.items():
        mid = "%s-%d.%s@acme.test" % (a.prefix, i, run)
        final = ans[-1][0]
        msgs.append({"i": i, "message_id": mid, "answers": ans,
                     "final": "accepted" if final == 250 else "rejected" if final >= 500 else "tempfailed"})
    with open(a.out, "w") as f:
        json.dump({"run": run, "seconds": elapsed, "messages": msgs}, f)

    codes = collections.Counter()
    for m in msgs:
        for code, text in m["answers"]:
            if code != 250:
                codes["%d %s" % (code, text.split("\n")[0][:60])] += 1
    print("sent %d" % len(msgs))
    print("accepted %d" % sum(m["final"] == "accepted" for m in msgs))
    print("rejected %d" % sum(m["final"] == "rejected" for m in msgs))
    print("unfinished %d" % sum(m["final"] == "tempfailed" for m in msgs))
    print("retried %d" % sum(len(m["answers"]) > 1 for m in msgs))
    print("answers_4xx %d" % sum(1 for m in msgs for c, _ in m["answers"] if 400 <= c < 500))
    print("answers_5xx %d" % sum(1 for m in msgs for c, _ in m["answers"] if c >= 500))
    print("lost_connections %d" % sum(1 for m in msgs for c, _ in m["answers"] if c == 0))
    print("seconds %.1f" % elapsed)
    for what, n in codes.most_common(5):
        print("answer %d x %s" % (n, what.replace("\n", " ")))


def sink_messages(sink):
    """(Message-ID, queue id Postfix gave it) of every copy delivered to
    support@ in the sink."""
    out = []
    for path in glob.glob(os.path.join(sink, "*")):
        with open(path, "rb") as f:
            head = f.read(65536).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        head = head.decode("utf-8", "replace").replace("\r", "")
        rcpt = mid = qid = None
        for line in head.replace("\n\t", " ").replace("\n ", " ").split("\n"):
            low = line.lower()
            if low.startswith("x-rcpt-args:"):
                rcpt = line.split(":", 1)[1].strip()
            elif low.startswith("message-id:") and mid is None:
                mid = line.split(":", 1)[1].strip().strip("<>")
            elif low.startswith("received:") and "(postfix) with" in low and qid is None:
                qid = line.split(" id ", 1)[1].split()[0].rstrip(";") if " id " in line else None
        if rcpt and rcpt.startswith("<support@"):
            out.append((mid, qid))
    return out


def check(a):
    with open(a.sent) as f:
        sent = json.load(f)
    msgs = sent["messages"]
    if a.prefix:
        prefix = a.prefix + "-"
    else:
        prefix = ""
    told_ok = {m["message_id"] for m in msgs if m["final"] == "accepted"}
    sink = [(mid, qid) for mid, qid in sink_messages(a.sink) if mid and mid.startswith(prefix)]
    sink_ids = collections.Counter(mid for mid, _ in sink)
    sink_qid = {mid: qid for mid, qid in sink}

    db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=30)
    rows = collections.defaultdict(list)
    for mid, tid, qid in db.execute("SELECT message_id, ticket_id, queue_id FROM messages"
                                    " WHERE direction = 'in'"):
        if mid and mid.startswith(prefix):
            rows[mid].append((tid, qid))
    tickets_of_ours = set(t for r in rows.values() for t, _ in r)
    tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
    first_of = {}
    for tid, mid in db.execute("SELECT ticket_id, message_id FROM messages"
                               " WHERE id IN (SELECT min(id) FROM messages GROUP BY ticket_id)"):
        first_of[tid] = mid
    db.close()

    sent_ids = {m["message_id"] for m in msgs}
    in_sink_not_db = [m for m in sink_ids if m not in rows]
    db_dups = [m for m, r in rows.items() if len(r) != 1]
    multi_ticket = [m for m, r in rows.items() if len(set(t for t, _ in r)) != 1]
    ok_not_in_sink = [m for m in told_ok if m not in sink_ids]
    in_sink_not_told = [m for m in sink_ids if m not in told_ok]
    # A message stored in a session that then failed (the daemon died after
    # the commit, before its answer) and accepted on a later attempt.
    recovered = [m for m in sink_ids if m in rows and sink_qid.get(m)
                 and rows[m][0][1] and rows[m][0][1] != sink_qid[m]]
    # Tickets opened by our messages whose first message is not ours (none expected).
    foreign = [t for t in tickets_of_ours if first_of.get(t) not in rows]
    print("sent %d" % len(msgs))
    print("told_accepted %d" % len(told_ok))
    print("sink_distinct %d" % len(sink_ids))
    print("sink_copies %d" % sum(sink_ids.values()))
    print("sink_unknown %d" % len([m for m in sink_ids if m not in sent_ids]))
    print("stored_distinct %d" % len(rows))
    print("stored_rows %d" % sum(len(r) for r in rows.values()))
    print("tickets_ours %d" % len(tickets_of_ours))
    print("tickets_total %d" % tickets)
    print("in_sink_not_db %d" % len(in_sink_not_db))
    print("db_duplicates %d" % len(db_dups))
    print("multi_ticket %d" % len(multi_ticket))
    print("accepted_not_in_sink %d" % len(ok_not_in_sink))
    print("in_sink_not_told %d" % len(in_sink_not_told))
    print("stored_not_accepted %d" % len([m for m in rows if m not in sink_ids]))
    print("recovered_after_commit %d" % len(recovered))
    print("tickets_opened_by_others %d" % len(foreign))
    for what, ids in (("example_in_sink_not_db", in_sink_not_db), ("example_db_duplicate", db_dups),
                      ("example_accepted_not_in_sink", ok_not_in_sink)):
        for m in sorted(ids)[:3]:
            print("%s %s" % (what, m))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--count", type=int, default=0)
    s.add_argument("--seconds", type=float, default=0)
    s.add_argument("--sessions", type=int, default=10)
    s.add_argument("--retry", type=float, default=0)
    s.add_argument("--size", type=int, default=1500)
    s.add_argument("--from", dest="frm", default="customer@acme.test")
    s.add_argument("--to", default="support@example.com")
    c = sub.add_parser("check")
    c.add_argument("--db", required=True)
    c.add_argument("--sink", required=True)
    c.add_argument("--sent", required=True)
    c.add_argument("--prefix", default="")
    a = p.parse_args()
    socket.setdefaulttimeout(60)
    if a.cmd == "send":
        send(a)
    else:
        check(a)


if __name__ == "__main__":
    main()
