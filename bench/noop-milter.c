/*
 * noop-milter - the least a milter can do: accept every message at its
 * end, touching nothing.  bench/throughput.sh runs it to show what the
 * milter protocol alone costs Postfix, apart from what ticket-milter does
 * with each message.
 *
 *   noop-milter [-c [-e]] SOCKET      e.g. unix:/run/noop.sock, inet:8894@127.0.0.1
 *
 * Plain, it registers an end-of-message callback only, so libmilter asks
 * the MTA to send nothing else: no envelope, no header, no body.  With -c
 * it is a content milter that reads what ticket-milter reads (envelope,
 * every header, the body) and throws it away, negotiating the same steps
 * without replies (SMFIP_NR_*; bench/content-steps.h): the protocol cost
 * of reading a message.
 * With -e as well it makes the edits ticket-milter makes to a new ticket's
 * copy (an X-Ticket-ID header added, the Subject changed) with a fixed
 * tag: the protocol cost of tagging it.
 *
 * A unix socket is made for the group postfix (mode 0660), as
 * ticket-milter's is in a deployment.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "content-steps.h"

static int edits;

static sfsistat
on_eom(SMFICTX *ctx)
{
    if (edits) {
        smfi_addheader(ctx, "X-Ticket-ID", " TKT-1");
        smfi_chgheader(ctx, "Subject", 1, " [TKT-1] the subject of the message");
    }
    return SMFIS_ACCEPT;
}

static sfsistat
on_envelope(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat
on_data(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat
on_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return content_go_on(SMFIP_NR_HDR);
}

static sfsistat
on_eoh(SMFICTX *ctx)
{
    (void)ctx;
    return content_go_on(SMFIP_NR_EOH);
}

static sfsistat
on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void)ctx;
    (void)chunk;
    (void)len;
    return content_go_on(SMFIP_NR_BODY);
}

static struct smfiDesc desc = {
    .xxfi_name = "noop-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_eom = on_eom,
};

int
main(int argc, char **argv)
{
    const char *spec;
    struct group *gr;

    if (argc == 4 && strcmp(argv[1], "-c") == 0 && strcmp(argv[2], "-e") == 0) {
        edits = 1;
        argv[2] = argv[3];
        argc--;
    }
    if (argc == 3 && strcmp(argv[1], "-c") == 0) {
        desc.xxfi_flags = CONTENT_ACTIONS;
        desc.xxfi_negotiate = content_negotiate;
        desc.xxfi_connect = content_connect;
        desc.xxfi_envfrom = on_envelope;
        desc.xxfi_envrcpt = on_envelope;
        desc.xxfi_data = on_data;
        desc.xxfi_header = on_header;
        desc.xxfi_eoh = on_eoh;
        desc.xxfi_body = on_body;
        spec = argv[2];
    } else if (argc == 2) {
        spec = argv[1];
    } else {
        fprintf(stderr, "usage: noop-milter [-c [-e]] SOCKET\n");
        return 2;
    }
    /* The socket is the group's, from its first moment. */
    umask(0117);
    if (smfi_setconn((char *)spec) == MI_FAILURE || smfi_register(desc) == MI_FAILURE ||
        smfi_opensocket(1) == MI_FAILURE) {
        fprintf(stderr, "noop-milter: cannot listen on %s\n", spec);
        return 1;
    }
    if (strncmp(spec, "unix:", 5) == 0 && (gr = getgrnam("postfix")) != NULL &&
        chown(spec + 5, (uid_t)-1, gr->gr_gid) != 0) {
        perror(spec + 5);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
