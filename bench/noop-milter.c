/*
 * noop-milter - the least a content milter can do: take every message to
 * its end and accept it, touching nothing.  bench/throughput.sh runs it to
 * show what the milter protocol alone costs Postfix, apart from what
 * ticket-milter does with each message.
 *
 *   noop-milter SOCKET      e.g. inet:8894@127.0.0.1
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

static sfsistat
on_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
    .xxfi_name = "noop-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_eom = on_eom,
};

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: noop-milter SOCKET\n");
        return 2;
    }
    if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE ||
        smfi_opensocket(1) == MI_FAILURE) {
        fprintf(stderr, "noop-milter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
