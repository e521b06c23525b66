/*
 * html-memory - one hostile HTML mail through the parser or the staff-copy
 * stripper, once, for /usr/bin/time -v to measure.
 *
 *   html-memory parse|strip FILE
 *
 * "parse" runs parser_mail_parse() (the customer's view: the text of an
 * HTML-only mail), "strip" runs parser_strip_commands() with the router's
 * command-line test (the copy of a staff reply the customer gets).  Prints
 * "TIME <ms> <bytes of text or body>" so that the script can check the work
 * was done; bench/html-memory.sh reads the peak RSS from time(1).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"
#include "router/commands.h"

int
main(int argc, char **argv)
{
    g_autofree char *raw = NULL;
    gsize len = 0;
    gsize out = 0;
    gint64 start;

    if (argc != 3 || (strcmp(argv[1], "parse") != 0 && strcmp(argv[1], "strip") != 0)) {
        fprintf(stderr, "usage: html-memory parse|strip FILE\n");
        return 2;
    }
    if (!g_file_get_contents(argv[2], &raw, &len, NULL)) {
        fprintf(stderr, "html-memory: cannot read %s\n", argv[2]);
        return 1;
    }
    parser_init();
    start = g_get_monotonic_time();
    if (strcmp(argv[1], "parse") == 0) {
        struct mail *m = parser_mail_parse(raw, len, NULL);
        out = strlen(m->text);
        parser_mail_free(m);
    } else {
        GBytes *body = NULL;
        char *content_type = NULL;
        char *encoding = NULL;
        if (parser_strip_commands(raw, len, NULL, commands_is_command_line, &body, &content_type,
                                  &encoding)) {
            out = g_bytes_get_size(body);
            g_bytes_unref(body);
            g_free(content_type);
            g_free(encoding);
        }
    }
    printf("TIME %.1f %" G_GSIZE_FORMAT "\n", (double)(g_get_monotonic_time() - start) / 1000.0,
           out);
    return 0;
}
