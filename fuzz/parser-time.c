/*
 * parser-time - how long parser_mail_parse() takes on each file given.
 *
 *   parser-time [-n REPEAT] FILE...
 *
 * Prints "TIME <ms> <bytes> <file>" per file (the fastest of REPEAT runs,
 * so that a busy machine does not make a file look slow), then
 * "TOTAL <files> <bytes> <seconds>" for one pass over all of them.  Used
 * by bench/parser.sh and by the fuzz test to find slow inputs without the
 * sanitizers' overhead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "parser/mail.h"

static double
parse_ms(const char *raw, gsize len)
{
    gint64 start = g_get_monotonic_time();
    struct mail *m = parser_mail_parse(raw, len, NULL);

    parser_mail_free(m);
    return (double)(g_get_monotonic_time() - start) / 1000.0;
}

int
main(int argc, char **argv)
{
    int repeat = 1;
    int first = 1;
    double total_ms = 0;
    guint64 total_bytes = 0;
    int files = 0;

    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        repeat = atoi(argv[2]);
        first = 3;
    }
    if (repeat < 1 || first >= argc) {
        fprintf(stderr, "usage: parser-time [-n REPEAT] FILE...\n");
        return 2;
    }
    parser_init();
    for (int i = first; i < argc; i++) {
        g_autofree char *raw = NULL;
        gsize len = 0;
        double best = 0;

        if (!g_file_get_contents(argv[i], &raw, &len, NULL)) {
            fprintf(stderr, "parser-time: cannot read %s\n", argv[i]);
            return 1;
        }
        for (int r = 0; r < repeat; r++) {
            double ms = parse_ms(raw, len);
            if (r == 0 || ms < best)
                best = ms;
            total_ms += ms;
        }
        total_bytes += len;
        files++;
        printf("TIME %.3f %" G_GSIZE_FORMAT " %s\n", best, len, argv[i]);
    }
    printf("TOTAL %d %" G_GUINT64_FORMAT " %.6f\n", files, total_bytes, total_ms / 1000.0 / repeat);
    g_mime_shutdown();
    return 0;
}
