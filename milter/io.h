/*
 * io - the libmilter calls the callbacks make, behind one table.
 *
 * Every smfi_* call of milter/callbacks.c goes through the functions
 * below, which call the table in use: libmilter's own by default, or one
 * a test sets so that the callbacks run in-process, without an MTA, on a
 * context the test defines (SMFICTX is an incomplete type in libmilter's
 * header: a test may define struct smfi_str itself).  The start-up calls
 * of main.c (smfi_register, smfi_setconn, smfi_main, ...) are not here:
 * they are the daemon's, not the callbacks'.
 *
 * The functions have libmilter's signatures and results (MI_SUCCESS or
 * MI_FAILURE; getpriv and getsymval NULL when there is nothing), so that a
 * call site reads as the smfi_* call it stands for.
 */
#ifndef TM_MILTER_IO_H
#define TM_MILTER_IO_H

#include <libmilter/mfapi.h>

struct milter_io {
    void *(*getpriv)(SMFICTX *ctx);
    int (*setpriv)(SMFICTX *ctx, void *priv);
    char *(*getsymval)(SMFICTX *ctx, char *name);
    int (*setreply)(SMFICTX *ctx, char *code, char *xcode, char *text);
    int (*addheader)(SMFICTX *ctx, char *name, char *value);
    /* VALUE NULL deletes the INDEX-th (from 1) header called NAME. */
    int (*chgheader)(SMFICTX *ctx, char *name, int index, char *value);
    int (*replacebody)(SMFICTX *ctx, unsigned char *body, int len);
    /* RCPT is the recipient exactly as xxfi_envrcpt was given it. */
    int (*delrcpt)(SMFICTX *ctx, char *rcpt);
};

/* Makes IO (borrowed; every member set) the table the callbacks call from
 * now on; NULL restores libmilter's.  Returns the table that was in use.
 * Not thread-safe: set it before the first callback runs. */
const struct milter_io *milter_io_set(const struct milter_io *io);

void *milter_io_getpriv(SMFICTX *ctx);
int milter_io_setpriv(SMFICTX *ctx, void *priv);
char *milter_io_getsymval(SMFICTX *ctx, char *name);
int milter_io_setreply(SMFICTX *ctx, char *code, char *xcode, char *text);
int milter_io_addheader(SMFICTX *ctx, char *name, char *value);
int milter_io_chgheader(SMFICTX *ctx, char *name, int index, char *value);
int milter_io_replacebody(SMFICTX *ctx, unsigned char *body, int len);
int milter_io_delrcpt(SMFICTX *ctx, char *rcpt);

#endif
