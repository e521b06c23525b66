/*
 * milter - the daemon's shared state and the libmilter callbacks.
 */
#ifndef TM_MILTER_H
#define TM_MILTER_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

#include "config/config.h"
#include "outbound/dispatch.h"
#include "outbound/scheduler.h"
#include "router/keys.h"
#include "store/store.h"
#include "store/writer.h"

/* The callbacks, for smfi_register(). */
extern struct smfiDesc milter_desc;

/* Called once by main before smfi_main(): the config (a reference is taken)
 * and the writer every message is committed through. */
void milter_setup(struct config *cfg, struct store_writer *writer, struct dispatcher *dispatcher,
                  struct scheduler *scheduler, const struct keys *keys);
/* Replaces the config for messages that start from now on (SIGUSR1). */
void milter_set_config(struct config *cfg);
/* Waits up to TIMEOUT_MS for messages in their commit to finish; returns
 * whether none is left. With CLOSE, no new commit starts from now on:
 * such a message is refused with 451. */
bool milter_drain(guint timeout_ms, bool close);
/* Bytes of message the messages in flight keep now, against [milter]
 * max_buffered_bytes; for the metrics. */
guint64 milter_buffered_bytes(void);

#endif
