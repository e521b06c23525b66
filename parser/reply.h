/*
 * reply - the new part of a reply, without what it quotes.
 *
 * Internal to parser/: mail.c fills mail->reply_text from mail->text.
 */
#ifndef TM_PARSER_REPLY_H
#define TM_PARSER_REPLY_H

/* TEXT (UTF-8, LF line ends) without quoted lines ("> "), the attribution
 * line above a quote ("On ... wrote:", "Op ... schreef ...:", "Am ...
 * schrieb ...:"), and without everything from an Outlook original-message
 * block or a signature separator ("-- ") on. Trailing blank lines go.
 * Never NULL. */
char *parser_reply_text(const char *text);

#endif
