/*
 * io - the seam between the callbacks and libmilter.
 *
 * Owns one pointer: the table of smfi_* functions in use.  It starts as
 * libmilter's; milter_io_set() swaps it (tests/unit/test-milter.c answers
 * the calls itself and records what the callbacks asked for).  Nothing
 * here can fail on its own: each function returns what the table's
 * function returned.
 */
#include <stddef.h>

#include "milter/io.h"

static const struct milter_io libmilter_io = {
    .getpriv = smfi_getpriv,
    .setpriv = smfi_setpriv,
    .getsymval = smfi_getsymval,
    .setreply = smfi_setreply,
    .addheader = smfi_addheader,
    .chgheader = smfi_chgheader,
    .replacebody = smfi_replacebody,
    .delrcpt = smfi_delrcpt,
};

static const struct milter_io *io = &libmilter_io;

const struct milter_io *
milter_io_set(const struct milter_io *table)
{
    const struct milter_io *old = io;

    io = table != NULL ? table : &libmilter_io;
    return old;
}

void *
milter_io_getpriv(SMFICTX *ctx)
{
    return io->getpriv(ctx);
}

int
milter_io_setpriv(SMFICTX *ctx, void *priv)
{
    return io->setpriv(ctx, priv);
}

char *
milter_io_getsymval(SMFICTX *ctx, char *name)
{
    return io->getsymval(ctx, name);
}

int
milter_io_setreply(SMFICTX *ctx, char *code, char *xcode, char *text)
{
    return io->setreply(ctx, code, xcode, text);
}

int
milter_io_addheader(SMFICTX *ctx, char *name, char *value)
{
    return io->addheader(ctx, name, value);
}

int
milter_io_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
    return io->chgheader(ctx, name, index, value);
}

int
milter_io_replacebody(SMFICTX *ctx, unsigned char *body, int len)
{
    return io->replacebody(ctx, body, len);
}

int
milter_io_delrcpt(SMFICTX *ctx, char *rcpt)
{
    return io->delrcpt(ctx, rcpt);
}
