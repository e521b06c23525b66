/*
 * html - readable text from an HTML body, for mail that has no text/plain.
 */
#ifndef TM_PARSER_HTML_H
#define TM_PARSER_HTML_H

/* Returns new UTF-8 text: block ends become line breaks, scripts and styles
 * are dropped, entities decoded, runs of blank lines reduced to one. */
char *parser_html_to_text(const char *html);

#endif
