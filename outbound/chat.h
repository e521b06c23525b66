/*
 * chat - text that Slack and Microsoft Teams show as it is written.
 *
 * The "text" member of our webhook JSON is rendered by both services as
 * markup; text a customer wrote (a ticket's subject) must not ping a
 * channel, make a link or change the formatting there.
 */
#ifndef TM_OUTBOUND_CHAT_H
#define TM_OUTBOUND_CHAT_H

/* TEXT (UTF-8; NULL is read as "") as a new string that Slack's mrkdwn
 * and Teams' Markdown and HTML display literally: no mention, no link, no
 * emphasis, code, heading, list or quote.  Pure; the caller frees the
 * result with g_free().  chat.c says what each character becomes. */
char *chat_escape_text(const char *text);

#endif
