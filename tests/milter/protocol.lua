-- The milter protocol alone, with miltertest playing Postfix: which step
-- answers what, and which edits the milter asks for at end of message.
-- Prints TAP; run by tests/e2e/test-milter-protocol.sh with -D socket=...

local n = 0
local function ok(cond, what)
    n = n + 1
    if cond then
        mt.echo("ok " .. n .. " - " .. what)
    else
        mt.echo("not ok " .. n .. " - " .. what)
    end
end

local function connect()
    local conn = mt.connect(socket, 20, 0.25)
    if conn == nil then
        error("cannot connect to the milter at " .. socket)
    end
    if mt.conninfo(conn, "client.test", "127.0.0.1") ~= nil then
        error("conninfo failed")
    end
    return conn
end

local function trim(s)
    return (string.gsub(s or "", "^%s+", ""))
end

-- 1. Mail for someone else is accepted at DATA, before any header is sent.
local conn = connect()
mt.macro(conn, SMFIC_MAIL, "i", "QTEST1")
mt.mailfrom(conn, "<jan@acme.test>")
mt.rcptto(conn, "<someone@elsewhere.test>")
mt.data(conn)
ok(mt.getreply(conn) == SMFIR_ACCEPT, "non-support mail is accepted at DATA")
mt.disconnect(conn)

-- 2. Support mail: the ticket header is added, the subject tagged, and a
--    ticket header the sender brought along is removed.
conn = connect()
mt.macro(conn, SMFIC_MAIL, "i", "QTEST2")
mt.mailfrom(conn, "<jan@acme.test>")
mt.rcptto(conn, "<Support@Example.com>")
mt.data(conn)
ok(mt.getreply(conn) == SMFIR_CONTINUE, "support mail continues at DATA")
mt.header(conn, "From", "Jan <jan@acme.test>")
mt.header(conn, "To", "support@example.com")
mt.header(conn, "Subject", "Printer on fire")
mt.header(conn, "Message-ID", "<protocol-1@acme.test>")
mt.header(conn, "X-Ticket-ID", "TKT-999")
mt.eoh(conn)
mt.bodystring(conn, "It is really on fire.\r\n")
mt.eom(conn)
ok(mt.getreply(conn) == SMFIR_CONTINUE, "support mail is accepted at end of message")
ok(mt.eom_check(conn, MT_HDRADD, "X-Ticket-ID"), "X-Ticket-ID is added")
ok(trim(mt.getheader(conn, "X-Ticket-ID", 0)) == "TKT-1", "X-Ticket-ID is TKT-1")
ok(mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "Subject is changed")
ok(mt.eom_check(conn, MT_HDRDELETE, "X-Ticket-ID") or
   mt.eom_check(conn, MT_HDRCHANGE, "X-Ticket-ID"), "the sender's X-Ticket-ID is removed")
mt.disconnect(conn)

-- 3. A client that announces a size over the limit is refused at the
-- support recipient; another recipient of the same mail is not our business.
conn = connect()
mt.mailfrom(conn, "<jan@acme.test>", "SIZE=999999999")
ok(mt.getreply(conn) == SMFIR_CONTINUE, "an announced oversized message passes MAIL FROM")
mt.rcptto(conn, "<colleague@elsewhere.test>")
ok(mt.getreply(conn) == SMFIR_CONTINUE, "and a recipient that is not support")
mt.rcptto(conn, "<support@example.com>")
ok(mt.getreply(conn) == SMFIR_REPLYCODE, "it is refused at the support recipient")
mt.disconnect(conn)

-- 4. The same message again: same ticket, nothing new.
conn = connect()
mt.macro(conn, SMFIC_MAIL, "i", "QTEST3")
mt.mailfrom(conn, "<jan@acme.test>")
mt.rcptto(conn, "<support@example.com>")
mt.data(conn)
mt.header(conn, "From", "Jan <jan@acme.test>")
mt.header(conn, "To", "support@example.com")
mt.header(conn, "Subject", "Printer on fire")
mt.header(conn, "Message-ID", "<protocol-1@acme.test>")
mt.eoh(conn)
mt.bodystring(conn, "It is really on fire.\r\n")
mt.eom(conn)
ok(mt.getreply(conn) == SMFIR_CONTINUE, "a second copy is accepted")
ok(trim(mt.getheader(conn, "X-Ticket-ID", 0)) == "TKT-1", "a second copy gets the same ticket")
mt.disconnect(conn)

-- 5. A subject that carries the tag is left alone.
conn = connect()
mt.mailfrom(conn, "<jan@acme.test>")
mt.rcptto(conn, "<support@example.com>")
mt.data(conn)
mt.header(conn, "From", "jan@acme.test")
mt.header(conn, "Subject", "Re: [TKT-2] more")
mt.header(conn, "Message-ID", "<protocol-2@acme.test>")
mt.eoh(conn)
mt.bodystring(conn, "more\r\n")
mt.eom(conn)
ok(trim(mt.getheader(conn, "X-Ticket-ID", 0)) == "TKT-2", "a new message gets TKT-2")
ok(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "a subject with its tag is not changed")
mt.disconnect(conn)

