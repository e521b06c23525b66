/*
 * auto - is this message written by a machine?
 */
#ifndef TM_PARSER_AUTO_H
#define TM_PARSER_AUTO_H

#include <gmime/gmime.h>

#include "parser/mail.h"

/* The header name of the loop mark on mail we send. */
#define PARSER_LOOP_HEADER "X-Ticket-Loop"

/* Fills the is_* flags and loop of MAIL from MSG's headers and structure. */
void parser_auto_signs(GMimeMessage *msg, struct mail *mail);

#endif
