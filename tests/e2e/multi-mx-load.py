#!/usr/bin/env python3
"""Load for the several-MX test: mail to two (or more) Postfix instances.

  multi-mx-load.py --ports P1,P2 --prefix NAME --count N --run RUN
                   [--to-all] [--sessions K] [--retry SECONDS] [--out FILE]
                   [--sender FORMAT] [--burst]

Message i has the Message-ID <NAME-i.RUN@acme.test>, the same bytes in
every copy and at every attempt, and a sender of its own,
cust-NAME-i@acme.test (one acknowledgement each: ack_limit counts per
address), or FORMAT % i with --sender ('victim+%d@acme.test': twenty
addresses of one mailbox).  Without --to-all message i goes to port i mod
len(ports) (the load spread over the hosts); with --to-all every message
goes to every port, the same bytes, at the same time (one message
delivered to all MX hosts).  K sessions per port; with --burst each
session has its connection open and greeted before any sends, so that
the first messages of all sessions arrive at once.  A 4xx answer (or a
lost connection) is tried again, as a sending MTA would, for up to
SECONDS.  The summary goes
to stdout as "key value" lines: sent (attempted messages and copies),
accepted (copies that got a 250), answers_4xx, answers_451, rejected
(5xx), lost (connections), failed (copies never accepted); FILE gets the
answers of each copy as JSON.
"""
import argparse
import email.utils
import json
import queue
import smtplib
import sys
import threading
import time


def message(prefix, run, date, i, sender=None):
    mid = "%s-%d.%s@acme.test" % (prefix, i, run)
    frm = sender % i if sender else "cust-%s-%d@acme.test" % (prefix, i)
    text = (
        "From: Customer %d <%s>\r\n"
        "To: support@example.com\r\n"
        "Subject: %s message %d\r\n"
        "Message-ID: <%s>\r\n"
        "Date: %s\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "The service behind order %d is failing again, please have a look.\r\n"
    ) % (i, frm, prefix, i, mid, date, i)
    return mid, frm, text.encode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ports", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--to-all", action="store_true")
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--retry", type=float, default=0)
    p.add_argument("--out")
    p.add_argument("--sender")
    p.add_argument("--burst", action="store_true")
    a = p.parse_args()
    ports = [int(x) for x in a.ports.split(",")]
    # One Date for the run: every copy and every attempt of a message is the
    # same bytes (the Date is part of what makes two copies one message).
    date = email.utils.formatdate(usegmt=True)
    queues = {port: queue.Queue() for port in ports}
    for i in range(a.count):
        targets = ports if a.to_all else [ports[i % len(ports)]]
        for port in targets:
            queues[port].put(i)
    lock = threading.Lock()
    stats = dict(sent=0, accepted=0, answers_4xx=0, answers_451=0, rejected=0, lost=0, failed=0)
    answers = {}

    def count(key, n=1):
        with lock:
            stats[key] += n

    barrier = threading.Barrier(len(ports) * a.sessions) if a.burst else None

    def session(port):
        conn = None
        if barrier is not None:
            try:
                conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
                conn.ehlo("sender.test")
            except (OSError, smtplib.SMTPException):
                conn = None
            barrier.wait()
        while True:
            try:
                i = queues[port].get_nowait()
            except queue.Empty:
                break
            mid, frm, data = message(a.prefix, a.run, date, i, a.sender)
            count("sent")
            end = time.time() + a.retry
            got = []
            while True:
                code = 0
                try:
                    if conn is None:
                        conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
                        conn.ehlo("sender.test")
                    conn.sendmail(frm, ["support@example.com"], data)
                    code = 250
                except smtplib.SMTPResponseException as e:
                    code = e.smtp_code
                except smtplib.SMTPRecipientsRefused as e:
                    code = list(e.recipients.values())[0][0]
                except (OSError, smtplib.SMTPException):
                    code = 0
                got.append(code)
                if code != 250:
                    # A new session after any error, as a sending MTA would.
                    try:
                        if conn is not None:
                            conn.close()
                    except Exception:
                        pass
                    conn = None
                if code == 250:
                    count("accepted")
                    break
                if 500 <= code < 600:
                    count("rejected")
                    break
                if code == 0:
                    count("lost")
                else:
                    count("answers_4xx")
                    if code == 451:
                        count("answers_451")
                if time.time() >= end:
                    count("failed")
                    break
                time.sleep(0.5)
            with lock:
                answers.setdefault(mid, []).append({"port": port, "answers": got})
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                pass

    threads = [threading.Thread(target=session, args=(port,))
               for port in ports for _ in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if a.out:
        with open(a.out, "w") as f:
            json.dump(answers, f)
    for k, v in stats.items():
        print(k, v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
