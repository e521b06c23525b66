/*
 * commands - the command lines staff put at the top of a reply:
 *
 *   #severity 1-4   #status open|pending|resolved|closed   #stage 1-3
 *   #assign ADDRESS   #internal   #escalate
 *   #requester ADDRESS   #customer NAME   (a ticket staff open for a customer)
 *
 * Only the lines before the first line of prose count, so a "#" further
 * down (a quoted mail, a code sample) is never a command.  A line that
 * looks like a command but is not one is kept as unknown, to be reported
 * back, never applied.
 */
#ifndef TM_ROUTER_COMMANDS_H
#define TM_ROUTER_COMMANDS_H

#include <stdbool.h>

#include <glib.h>

enum command_kind {
    CMD_SEVERITY,
    CMD_STATUS,
    CMD_STAGE,
    CMD_ASSIGN,
    CMD_INTERNAL,
    CMD_ESCALATE,
    CMD_REQUESTER,
    CMD_CUSTOMER,
    CMD_UNKNOWN,
};

struct command {
    enum command_kind kind;
    int number; /* severity or stage */
    char *word; /* status, address (lower case) or customer name */
    char *line; /* as written */
};

/* The commands at the top of TEXT, in order (an empty array when none):
 * at most 20, and then one CMD_UNKNOWN that says how many more there were
 * (they are not applied, but are stripped like the others). */
GPtrArray *commands_parse(const char *text);
/* TEXT without its leading command lines (and the blank lines after them). */
char *commands_strip(const char *text);
/* Whether LINE is a command line (known or not). */
bool commands_is_command_line(const char *line);

#endif
