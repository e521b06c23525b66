/*
 * options - ticketctl's command line (GLib's option parser, per command).
 */
#ifndef TM_CLI_OPTIONS_H
#define TM_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/ticketctl.h"

/* Reads ARGV into O. *EXIT_NOW is -1 when the command is to run, else the
 * exit status to leave with (after --help or --version: 0; after a usage
 * error, already explained on stderr: EXIT_USAGE). Clear O after. */
bool options_parse(int argc, char **argv, struct options *o, int *exit_now);
void options_clear(struct options *o);
void options_usage(FILE *out);
/* The commands, NULL-terminated (for the shell completion's test). */
const char *const *options_command_names(void);

#endif
