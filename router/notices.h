/*
 * notices - who is told, for every decision that tells someone.
 *
 * Staff hear of a stage from its contacts; when a stage has none, the
 * ticket's assignee hears, else the [staff] addresses; warnings, breaches
 * and escalations then fall back to the first support address, so that
 * every one of them reaches somebody.  A customer is told only at the one
 * address the ticket answers to.
 */
#ifndef TM_ROUTER_NOTICES_H
#define TM_ROUTER_NOTICES_H

#include <stdbool.h>

#include <glib.h>

#include "router/decision.h"
#include "router/policy.h"
#include "router/ticket.h"

/* The addresses told about T at STAGE (0: the ticket's staff). With
 * ALWAYS, never empty: the first support address stands in. */
GPtrArray *notices_recipients(const struct policy *p, const struct ticket *t, int stage,
                              bool always);

/* A notice to T's requester (a customer), in the ticket's language and
 * zone; NULL when the ticket answers to nobody. */
struct notice_order *notices_to_requester(struct decision *d, const struct ticket *t,
                                          const char *template_name, enum notice_kind kind);

/* A notice to T's staff at STAGE; NULL when nobody is to hear of it. */
struct notice_order *notices_to_staff(const struct policy *p, struct decision *d,
                                      const struct ticket *t, int stage, bool always,
                                      const char *template_name);

/* T entered its current stage from FROM, because of CAUSE (automatic,
 * missed-goal, ladder, customer, staff) in WHY's words: the stage event,
 * the stage's people, the webhook and, with TELL_CUSTOMER, the customer. */
void notices_stage_entered(const struct policy *p, struct decision *d, const struct ticket *t,
                           int from, const char *cause, const char *why, const char *actor,
                           bool tell_customer);

/* T's status went from OLD: the customer hears of it. */
void notices_status_change(struct decision *d, const struct ticket *t, enum ticket_status old);

#endif
