/*
 * content-steps.h - the milter steps the benchmarks' content milters
 * (bench/noop-milter.c -c, bench/floor-milter.c) negotiate: those
 * ticket-milter negotiates (milter/callbacks.c), so that what they cost
 * is what reading a message costs ticket-milter.
 *
 * Asked for: adding and changing headers and the body.  Skipped: HELO and
 * unknown commands.  Not answered (SMFIP_NR_*), when the MTA offers it:
 * the connect, each header, the end of the headers, each body chunk.
 * Header values keep their leading space when the MTA offers that
 * (content_leading_space then says so), so a copy of them is byte for
 * byte.
 *
 * Each program includes it once: its definitions are the program's own.
 */
#ifndef BENCH_CONTENT_STEPS_H
#define BENCH_CONTENT_STEPS_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

#define CONTENT_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY)

/* What the MTA agreed to.  Every negotiation writes them, with the same
 * values for every connection of one MTA. */
static unsigned long content_noreply;
static bool content_leading_space;

/* The answer to STEP: none when the MTA does not wait for one. */
static sfsistat
content_go_on(unsigned long step)
{
    return content_noreply & step ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
content_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                  unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                  unsigned long *pf3)
{
    const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
    const unsigned long nr = SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

    (void)ctx;
    (void)f2;
    (void)f3;
    *pf0 = f0 & CONTENT_ACTIONS;
    *pf1 = f1 & (skip | nr | SMFIP_HDR_LEADSPC);
    content_noreply = f1 & nr;
    content_leading_space = (f1 & SMFIP_HDR_LEADSPC) != 0;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat
content_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)ctx;
    (void)host;
    (void)addr;
    return content_go_on(SMFIP_NR_CONN);
}

#endif
