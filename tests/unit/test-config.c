/*
 * test-config - every key read back, every default, and for every kind of
 * mistake an error that names the line and the key.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config/config.h"
#include "config/secret.h"

static char *tmpdir;

/* Writes TEXT to a new file and loads it. */
static struct config *
load_text(const char *text, char **path_out, GError **error)
{
    static int n;
    char *path = g_strdup_printf("%s/conf-%d.conf", tmpdir, n++);
    struct config *cfg;

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    cfg = config_load(path, error);
    if (path_out != NULL)
        *path_out = path;
    else
        g_free(path);
    return cfg;
}

/* Templates come from the source tree; the last group is [milter], so a
 * key appended to MINIMAL lands there, on line 6. */
#define MINIMAL                                                                                    \
    "[outbound]\n"                                                                                 \
    "template_dir = templates\n"                                                                   \
    "[milter]\n"                                                                                   \
    "database = /var/lib/tm/tickets.db\n"                                                          \
    "support_addresses = support@example.com\n"

static void
test_full(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text("# comment\n"
                                   "  # indented comment\n"
                                   "[milter]\n"
                                   "socket = unix:/run/tm/tm.sock\n"
                                   "database = /var/lib/tm/tickets.db\n"
                                   "support_addresses = Support@Example.com ; help@example.com;\n"
                                   "ticket_prefix = HELP\n"
                                   "max_message_size = 1048576\n"
                                   "unknown_senders = reject\n"
                                   "busy_timeout = 250\n"
                                   "hostname = mx1.example.com\n"
                                   "\n"
                                   "[staff]\n"
                                   "addresses = Lead@Example.com\n"
                                   "domains = example.com;example.net\n"
                                   "trusted_networks = 127.0.0.0/8; 192.0.2.7; 2001:db8::/32\n"
                                   "authserv_ids = mx1.example.com\n"
                                   "[outbound]\n"
                                   "smtp_url = smtp://127.0.0.1:10026\n"
                                   "from = Help Desk <help@example.com>\n"
                                   "webhook_url = https://hooks.example.com/x\n"
                                   "template_dir = templates\n"
                                   "ack_limit = 3\n"
                                   "ack_followup = yes\n"
                                   "language = nl\n"
                                   "[customer:acme]\n"
                                   "domains = ACME.com\n"
                                   "contacts = ops@partner.test\n"
                                   "plan = extended\n"
                                   "timezone = Europe/Amsterdam\n"
                                   "language = NL\n"
                                   "[customer:globex]\n"
                                   "contacts = it@globex.test\n",
                                   NULL, &error);

    g_assert_no_error(error);
    g_assert_nonnull(cfg);
    g_assert_cmpstr(cfg->socket, ==, "unix:/run/tm/tm.sock");
    g_assert_cmpstr(cfg->database, ==, "/var/lib/tm/tickets.db");
    g_assert_cmpuint(g_strv_length(cfg->support_addresses), ==, 2);
    g_assert_cmpstr(cfg->support_addresses[0], ==, "support@example.com");
    g_assert_cmpstr(cfg->ticket_prefix, ==, "HELP");
    g_assert_cmpuint(cfg->max_message_size, ==, 1048576);
    /* Unset, ten of the largest messages. */
    g_assert_cmpuint(cfg->max_buffered_bytes, ==, 10485760);
    g_assert_cmpint(cfg->unknown_senders, ==, UNKNOWN_SENDERS_REJECT);
    g_assert_cmpuint(cfg->busy_timeout, ==, 250);
    g_assert_cmpstr(cfg->hostname, ==, "mx1.example.com");
    g_assert_cmpstr(cfg->staff_addresses[0], ==, "lead@example.com");
    g_assert_cmpuint(g_strv_length(cfg->staff_domains), ==, 2);
    g_assert_cmpuint(cfg->trusted_networks->len, ==, 3);
    g_assert_cmpstr(cfg->authserv_ids[0], ==, "mx1.example.com");
    g_assert_cmpstr(cfg->smtp_url, ==, "smtp://127.0.0.1:10026");
    g_assert_cmpstr(cfg->from, ==, "Help Desk <help@example.com>");
    g_assert_cmpstr(cfg->webhook_url, ==, "https://hooks.example.com/x");
    g_assert_cmpuint(cfg->ack_limit, ==, 3);
    g_assert_true(cfg->ack_followup);
    g_assert_cmpstr(cfg->language, ==, "nl");
    g_assert_nonnull(cfg->templates);
    g_assert_cmpuint(cfg->customers->len, ==, 2);
    struct customer *acme = g_ptr_array_index(cfg->customers, 0);
    g_assert_cmpstr(acme->name, ==, "acme");
    g_assert_cmpstr(acme->domains[0], ==, "acme.com");
    g_assert_cmpstr(acme->contacts[0], ==, "ops@partner.test");
    g_assert_cmpstr(acme->plan, ==, "extended");
    g_assert_cmpstr(acme->timezone, ==, "Europe/Amsterdam");
    g_assert_cmpstr(acme->language, ==, "nl");
    struct customer *globex = g_ptr_array_index(cfg->customers, 1);
    g_assert_null(globex->domains[0]);
    g_assert_cmpstr(globex->timezone, ==, "UTC");

    g_assert_true(config_is_support_address(cfg, "HELP@example.COM"));
    g_assert_false(config_is_support_address(cfg, "sales@example.com"));
    g_assert_true(config_is_trusted_client(cfg, "127.0.0.2"));
    g_assert_true(config_is_trusted_client(cfg, "192.0.2.7"));
    g_assert_false(config_is_trusted_client(cfg, "192.0.2.8"));
    g_assert_true(config_is_trusted_client(cfg, "2001:db8::1"));
    g_assert_false(config_is_trusted_client(cfg, "2001:db9::1"));
    g_assert_false(config_is_trusted_client(cfg, "not an address"));
    g_assert_false(config_is_trusted_client(cfg, NULL));

    /* References: the last unref frees. */
    g_assert_true(config_ref(cfg) == cfg);
    g_assert_null(config_unref(cfg));
    g_assert_null(config_unref(cfg));
}

static void
test_defaults(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text(MINIMAL, NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(cfg->socket, ==, "inet:8894@127.0.0.1");
    g_assert_cmpstr(cfg->ticket_prefix, ==, "TKT");
    g_assert_cmpuint(cfg->max_message_size, ==, 26214400);
    g_assert_cmpuint(cfg->max_buffered_bytes, ==, 10 * 26214400);
    g_assert_cmpint(cfg->unknown_senders, ==, UNKNOWN_SENDERS_ACCEPT);
    g_assert_cmpuint(cfg->busy_timeout, ==, 2000);
    g_assert_nonnull(cfg->hostname);
    g_assert_null(cfg->staff_addresses[0]);
    g_assert_cmpuint(cfg->trusted_networks->len, ==, 0);
    g_assert_cmpstr(cfg->smtp_url, ==, "smtp://127.0.0.1:10025");
    g_assert_cmpstr(cfg->from, ==, "Support <support@example.com>");
    g_assert_null(cfg->webhook_url);
    g_assert_cmpuint(cfg->ack_limit, ==, 5);
    g_assert_false(cfg->ack_followup);
    g_assert_cmpstr(cfg->language, ==, "en");
    g_assert_cmpuint(cfg->retry_base, ==, 5);
    g_assert_cmpuint(cfg->customers->len, ==, 0);
    /* No Authentication-Results header is believed until the admin names
     * the verifiers' networks. */
    g_assert_cmpuint(cfg->authserv_networks->len, ==, 0);
    g_assert_false(config_is_authserv_client(cfg, "127.0.0.1"));
    g_assert_false(config_is_authserv_client(cfg, "::1"));
    config_unref(cfg);
}

/* What -t warns of: each names the key and its line. */
static const struct {
    const char *name;
    const char *text;   /* after MINIMAL, whose last line is 5 */
    const char *expect; /* NULL: no warning of these keys */
    const char *absent; /* NULL, or what no warning may say */
} warn_cases[] = {
    { "trusted-loopback", "[staff]\ntrusted_networks = 192.0.2.0/24; 127.0.0.1\n",
      "line 7: [staff] trusted_networks: 127.0.0.1 covers loopback: any process on this host",
      NULL },
    { "trusted-loopback6", "[staff]\ntrusted_networks = ::1\n",
      "line 7: [staff] trusted_networks: ::1 covers loopback", NULL },
    { "trusted-everything", "[staff]\ntrusted_networks = 0.0.0.0/0\n",
      "line 7: [staff] trusted_networks: 0.0.0.0/0 covers loopback", NULL },
    { "trusted-wide4", "[staff]\ntrusted_networks = 10.0.0.0/8\n",
      "line 7: [staff] trusted_networks: 10.0.0.0/8 is wider than /16 (IPv4) or /48 (IPv6): every"
      " host in it passes as staff",
      NULL },
    { "trusted-wide6", "[staff]\ntrusted_networks = 2001:db8::/32\n",
      "line 7: [staff] trusted_networks: 2001:db8::/32 is wider than /16", NULL },
    { "trusted-fine", "[staff]\ntrusted_networks = 192.0.2.0/24; 10.1.0.0/16; 2001:db8:1::/48\n",
      NULL, NULL },
    { "authserv-ids-alone", "[staff]\nauthserv_ids = mx.example.com\n",
      "line 7: [staff] authserv_ids: set, but [staff] authserv_networks is empty", NULL },
    { "authserv-loopback",
      "[staff]\nauthserv_ids = mx.example.com\nauthserv_networks = 127.0.0.0/8\n",
      "line 8: [staff] authserv_networks: 127.0.0.0/8 covers loopback: any process on this host"
      " that can submit mail can forge",
      NULL },
    { "authserv-fine", "[staff]\nauthserv_ids = mx.example.com\nauthserv_networks = 192.0.2.25\n",
      NULL, NULL },
    { "contact-in-staff-domain",
      "[staff]\ndomains = example.com\n[customer:acme]\ndomains = acme.test\n"
      "contacts = ops@acme.test; jan@example.com\n",
      "line 10: [customer:acme] contacts: jan@example.com is also in [staff] domains: the router"
      " treats it as a contact of acme",
      NULL },
    { "contact-is-staff",
      "[staff]\naddresses = lead@partner.test\n[customer:acme]\ncontacts = lead@partner.test\n",
      "line 9: [customer:acme] contacts: lead@partner.test is also in [staff] addresses", NULL },
    { "contact-fine", "[staff]\ndomains = example.com\n[customer:acme]\ncontacts = jan@acme.test\n",
      NULL, NULL },
    { "trusted-is-verifier",
      "[staff]\ntrusted_networks = 192.0.2.0/24\nauthserv_ids = mx.example.com\n"
      "authserv_networks = 198.51.100.25; 192.0.2.0/24\n",
      "line 7: [staff] trusted_networks: 192.0.2.0/24 is also in [staff] authserv_networks: a"
      " verifier there hands on mail from anyone",
      NULL },
    { "trusted-holds-verifier",
      "[staff]\ntrusted_networks = 2001:db8:1::/48\nauthserv_ids = mx.example.com\n"
      "authserv_networks = 2001:db8:1::25\n",
      "line 7: [staff] trusted_networks: 2001:db8:1::/48 overlaps 2001:db8:1::25 of [staff]"
      " authserv_networks: a verifier there hands on mail from anyone, and its trusted network"
      " makes every staff From it relays believed before its Authentication-Results are read,"
      " so forged staff mail passes; take the verifiers out of trusted_networks",
      NULL },
    { "trusted-in-verifiers",
      "[staff]\ntrusted_networks = 192.0.2.25\nauthserv_ids = mx.example.com\n"
      "authserv_networks = 192.0.2.0/24\n",
      "line 7: [staff] trusted_networks: 192.0.2.25 overlaps 192.0.2.0/24 of [staff]"
      " authserv_networks",
      NULL },
    { "trusted-apart-from-verifiers",
      "[staff]\ntrusted_networks = 192.0.2.0/24; 2001:db8:1::/48\n"
      "authserv_ids = mx.example.com\nauthserv_networks = 192.0.3.25; 2001:db8:2::25\n",
      NULL, NULL },
    /* Verifiers that are milters in our smtpd: every client, on purpose
     * (warned of as wide), no relay. */
    { "trusted-with-milter-verifiers",
      "[staff]\ntrusted_networks = 192.0.2.0/24\nauthserv_ids = mx.example.com\n"
      "authserv_networks = 0.0.0.0/0; ::/0\n",
      "line 9: [staff] authserv_networks: 0.0.0.0/0 is wider than",
      "of [staff] authserv_networks" },
    { "customer-domain-is-staff",
      "[staff]\ndomains = example.com; example.net\n[customer:acme]\n"
      "domains = acme.test; example.net\n",
      "line 9: [customer:acme] domains: example.net is also in [staff] domains: every address"
      " there but the named contacts of acme is staff, so its mail is never acme's",
      "acme.test" },
    { "customer-domain-fine",
      "[staff]\ndomains = example.com\n[customer:acme]\ndomains = acme.test; example.net\n", NULL,
      NULL },
};

static void
test_warnings(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strconcat(MINIMAL, warn_cases[i].text, NULL);
    struct config *cfg = load_text(text, NULL, &error);
    g_autoptr(GPtrArray) warnings = NULL;
    g_autofree char *all = NULL;

    g_assert_no_error(error);
    warnings = config_warnings(cfg);
    g_ptr_array_add(warnings, NULL);
    all = g_strjoinv("\n", (char **)warnings->pdata);
    g_test_message("%s", all);
    if (warn_cases[i].expect != NULL) {
        g_assert_nonnull(strstr(all, warn_cases[i].expect));
    } else {
        g_assert_null(strstr(all, "trusted_networks"));
        g_assert_null(strstr(all, "authserv"));
        g_assert_null(strstr(all, "contacts"));
        g_assert_null(strstr(all, "[staff] domains"));
    }
    if (warn_cases[i].absent != NULL)
        g_assert_null(strstr(all, warn_cases[i].absent));
    config_unref(cfg);
}

/* The warnings that were there before name their keys too. */
static void
test_warnings_other(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text(MINIMAL "socket = inet:8894@127.0.0.1\n", NULL, &error);
    g_autoptr(GPtrArray) warnings = config_warnings(cfg);
    g_autofree char *all = NULL;

    g_ptr_array_add(warnings, NULL);
    all = g_strjoinv("\n", (char **)warnings->pdata);
    g_assert_nonnull(strstr(all, "[staff] addresses: empty: new tickets"));
    g_assert_nonnull(strstr(all, "[escalation] stage3: empty, and so is [staff] addresses:"
                                 " warnings, breaches and escalations at Stage 3 reach only"
                                 " support@example.com"));
    g_assert_nonnull(strstr(all, "line 6: [milter] socket: inet:8894@127.0.0.1 is an inet"
                                 " socket"));
    config_unref(cfg);
}

/* Each bad config, and what its error must say (the line and the key). */
static const struct {
    const char *name;
    const char *text;
    int code;
    const char *expect;
} bad[] = {
    { "syntax", MINIMAL "this is not a key\n", CONFIG_ERROR_SYNTAX,
      ":6: expected \"key = value\"" },
    { "bad-group-header", "[milter\n", CONFIG_ERROR_SYNTAX, ":1: a group header" },
    { "key-outside-group", "database = x\n", CONFIG_ERROR_SYNTAX, ":1: database: key outside" },
    { "unknown-group", MINIMAL "[milterr]\n", CONFIG_ERROR_UNKNOWN,
      ":6: [milterr]: unknown group" },
    { "unknown-key", MINIMAL "databse = /x\n", CONFIG_ERROR_UNKNOWN,
      ":6: [milter] databse: unknown key" },
    { "key-twice", MINIMAL "database = /y\n", CONFIG_ERROR_SYNTAX,
      ":6: [milter] database: key given twice (first on line 4)" },
    { "missing-database", "[milter]\nsupport_addresses = a@b.c\n", CONFIG_ERROR_MISSING,
      "[milter] database: required key is missing" },
    { "missing-support", "[milter]\ndatabase = /x\n", CONFIG_ERROR_MISSING,
      "[milter] support_addresses: required" },
    { "empty-support", "[milter]\ndatabase = /x\nsupport_addresses = ;\n", CONFIG_ERROR_MISSING,
      "support_addresses" },
    { "bad-address", "[milter]\ndatabase = /x\nsupport_addresses = support\n", CONFIG_ERROR_VALUE,
      ":3: [milter] support_addresses: \"support\" must be" },
    { "empty-delimiter",
      "[milter]\ndatabase = /x\nsupport_addresses = a@b.test\nrecipient_delimiter =\n",
      CONFIG_ERROR_VALUE, ":4: [milter] recipient_delimiter: \"\" must not be empty" },
    { "dot-delimiter",
      "[milter]\ndatabase = /x\nsupport_addresses = a@b.test\nrecipient_delimiter = +.\n",
      CONFIG_ERROR_VALUE, ":4: [milter] recipient_delimiter: \"+.\" may contain only punctuation" },
    { "routing-delimiter",
      "[milter]\ndatabase = /x\nsupport_addresses = a@b.test\nrecipient_delimiter = +%\n",
      CONFIG_ERROR_VALUE, ":4: [milter] recipient_delimiter: \"+%\" may contain only punctuation" },
    { "delimiter-in-support",
      "[milter]\ndatabase = /x\nsupport_addresses = help-desk@b.test\nrecipient_delimiter = -\n",
      CONFIG_ERROR_VALUE,
      ":3: [milter] support_addresses: \"help-desk@b.test\" holds '-' of recipient_delimiter" },
    { "bad-socket", MINIMAL "socket = inet:99999@127.0.0.1\n", CONFIG_ERROR_VALUE,
      ":6: [milter] socket: \"inet:99999@127.0.0.1\" port must be" },
    { "bad-socket-kind", MINIMAL "socket = tcp:1\n", CONFIG_ERROR_VALUE, ":6: [milter] socket:" },
    { "relative-unix", MINIMAL "socket = unix:tm.sock\n", CONFIG_ERROR_VALUE,
      ":6: [milter] socket:" },
    { "bad-prefix", MINIMAL "ticket_prefix = tkt\n", CONFIG_ERROR_VALUE,
      ":6: [milter] ticket_prefix: \"tkt\" must be" },
    { "size-small", MINIMAL "max_message_size = 10\n", CONFIG_ERROR_VALUE,
      ":6: [milter] max_message_size: \"10\" must be a whole number from 1024 to 1073741824" },
    { "size-text", MINIMAL "max_message_size = 10MB\n", CONFIG_ERROR_VALUE,
      ":6: [milter] max_message_size" },
    { "buffered-below-size", MINIMAL "max_message_size = 2097152\nmax_buffered_bytes = 1048576\n",
      CONFIG_ERROR_VALUE,
      ":7: [milter] max_buffered_bytes: 1048576 is less than max_message_size (2097152)" },
    { "buffered-text", MINIMAL "max_buffered_bytes = 1G\n", CONFIG_ERROR_VALUE,
      ":6: [milter] max_buffered_bytes: \"1G\" must be a whole number" },
    { "bad-enum", MINIMAL "unknown_senders = bounce\n", CONFIG_ERROR_VALUE,
      ":6: [milter] unknown_senders: \"bounce\" must be accept or reject" },
    { "busy-too-long", MINIMAL "busy_timeout = 600000\n", CONFIG_ERROR_VALUE,
      ":6: [milter] busy_timeout" },
    { "bad-cidr", MINIMAL "[staff]\ntrusted_networks = 10.0.0.0/33\n", CONFIG_ERROR_VALUE,
      ":7: [staff] trusted_networks: \"10.0.0.0/33\"" },
    { "bad-domain", MINIMAL "[staff]\ndomains = @example.com\n", CONFIG_ERROR_VALUE,
      ":7: [staff] domains:" },
    { "bad-smtp-url", MINIMAL "[outbound]\nsmtp_url = http://x\n", CONFIG_ERROR_VALUE,
      ":7: [outbound] smtp_url:" },
    { "bad-webhook", MINIMAL "[outbound]\nwebhook_url = ftp://x\n", CONFIG_ERROR_VALUE,
      ":7: [outbound] webhook_url:" },
    { "bad-from", MINIMAL "[outbound]\nfrom = Support\n", CONFIG_ERROR_VALUE,
      ":7: [outbound] from:" },
    { "bad-timezone", MINIMAL "[customer:acme]\ndomains = acme.com\ntimezone = Mars/Olympus\n",
      CONFIG_ERROR_VALUE, ":8: [customer:acme] timezone: \"Mars/Olympus\" must be a time zone" },
    { "bad-language", MINIMAL "[customer:acme]\ndomains = acme.com\nlanguage = de\n",
      CONFIG_ERROR_VALUE, ":8: [customer:acme] language: \"de\" must be en or nl" },
    { "bad-customer-name", MINIMAL "[customer:a b]\n", CONFIG_ERROR_UNKNOWN,
      ":6: [customer:a b]: unknown group" },
    { "customer-no-mail", MINIMAL "[customer:acme]\nplan = standard\n", CONFIG_ERROR_MISSING,
      ":6: [customer:acme]: needs domains or contacts" },
    { "unknown-customer-key", MINIMAL "[customer:acme]\ndomain = acme.com\n", CONFIG_ERROR_UNKNOWN,
      ":7: [customer:acme] domain: unknown key" },
    { "contact-twice",
      MINIMAL "[customer:a]\ncontacts = x@y.test\n[customer:b]\ncontacts = X@y.test\n",
      CONFIG_ERROR_VALUE,
      ":9: [customer:b] contacts: \"x@y.test\" belongs to [customer:a] already" },
    { "bad-bool", MINIMAL "[outbound]\nack_followup = maybe\n", CONFIG_ERROR_VALUE,
      ":7: [outbound] ack_followup: \"maybe\" must be yes or no" },
    { "secret-in-config", MINIMAL "[milter]\nsecret = abcdefghijklmnopqrst\n", CONFIG_ERROR_UNKNOWN,
      ":7: [milter] secret: no longer read from the configuration" },
    { "bad-login", MINIMAL "[staff]\nlogins = jdoe\n", CONFIG_ERROR_VALUE,
      ":7: [staff] logins: \"jdoe\" must be LOGIN:ADDRESS" },
    { "bad-template-dir",
      "[milter]\ndatabase = /x\nsupport_addresses = a@b.test\n[outbound]\ntemplate_dir = "
      "/nonexistent\n",
      CONFIG_ERROR_TEMPLATE,
      ":5: [outbound] template_dir: /nonexistent/en/ack-new.txt: cannot read template" },
    { "bad-plan-hours", MINIMAL "[plan:gold]\nhours = mon-fri 9-5\n", CONFIG_ERROR_VALUE,
      ":7: [plan:gold] hours: \"9-5\": hours are HH:MM-HH:MM" },
    { "bad-plan-goal", MINIMAL "[plan:gold]\nsev1_response = soon\n", CONFIG_ERROR_VALUE,
      ":7: [plan:gold] sev1_response: \"soon\": a goal is none" },
    { "unknown-plan-key", MINIMAL "[plan:gold]\nsev5_response = 1h\n", CONFIG_ERROR_UNKNOWN,
      ":7: [plan:gold] sev5_response: unknown key" },
    { "customer-unknown-plan", MINIMAL "[customer:acme]\ndomains = acme.com\nplan = platinum\n",
      CONFIG_ERROR_VALUE, ":8: [customer:acme] plan: \"platinum\" is no plan" },
    { "bad-matrix", MINIMAL "[severity]\nmatrix = 1,2; 3\n", CONFIG_ERROR_VALUE,
      ":7: [severity] matrix: expected three rows" },
    { "bad-alias", MINIMAL "[severity]\naliases = blocker=7\n", CONFIG_ERROR_VALUE,
      ":7: [severity] aliases: \"blocker=7\"" },
    { "keyword-max-zero", MINIMAL "[severity]\nkeyword_max = 0\n", CONFIG_ERROR_VALUE,
      ":7: [severity] keyword_max: \"0\" must be a whole number from 1 to 4" },
    { "keyword-max-five", MINIMAL "[severity]\nmatrix = 1,1,2; 1,2,3; 2,3,3\nkeyword_max = 5\n",
      CONFIG_ERROR_VALUE, ":8: [severity] keyword_max: \"5\" must be a whole number from 1 to 4" },
    { "keyword-max-word", MINIMAL "[severity]\nkeyword_max = high\n", CONFIG_ERROR_VALUE,
      ":7: [severity] keyword_max: \"high\" must be a whole number" },
    { "bad-keyword", MINIMAL "[severity]\nkeywords = crash\n", CONFIG_ERROR_VALUE,
      ":7: [severity] keywords: \"crash\": expected PHRASE=N with N from 1 to 4" },
    { "bad-keyword-nl", MINIMAL "[severity]\nkeywords_nl = storing=9\n", CONFIG_ERROR_VALUE,
      ":7: [severity] keywords_nl: \"storing=9\": expected PHRASE=N" },
    { "bad-negation", MINIMAL "[severity]\nnegations = no impact=always\n", CONFIG_ERROR_VALUE,
      ":7: [severity] negations: \"no impact=always\": expected PHRASE, PHRASE=sentence or "
      "PHRASE=message" },
    { "bad-negation-nl", MINIMAL "[severity]\nnegations_nl = geen impact; =message\n",
      CONFIG_ERROR_VALUE, ":7: [severity] negations_nl: \"=message\": a phrase needs a word" },
    { "bad-escalation-goal", MINIMAL "[escalation]\nsev1_stage3_after = tomorrow\n",
      CONFIG_ERROR_VALUE, ":7: [escalation] sev1_stage3_after: \"tomorrow\" must be none" },
    { "bad-warn-at", MINIMAL "[escalation]\nwarn_at = 100\n", CONFIG_ERROR_VALUE,
      ":7: [escalation] warn_at" },
    { "database-uri-password",
      "[milter]\ndatabase = postgresql://tm:hunter2@db1/tickets\nsupport_addresses = a@b.test\n",
      CONFIG_ERROR_VALUE,
      ":2: [milter] database: \"postgresql://tm:hunter2@db1/tickets\" must not carry a password" },
    { "database-uri-password-param",
      "[milter]\ndatabase = postgres://db1/tickets?sslmode=require&password=x\nsupport_addresses = "
      "a@b.test\n",
      CONFIG_ERROR_VALUE, "must not carry a password" },
    { "database-uri-no-secret",
      "[milter]\ndatabase = postgresql://tm@db1/tickets\nsupport_addresses = a@b.test\n",
      CONFIG_ERROR_MISSING,
      "[milter] secret_file: required when the database is a PostgreSQL URI" },
    { "domain-twice", MINIMAL "[customer:a]\ndomains = y.test\n[customer:b]\ndomains = y.test\n",
      CONFIG_ERROR_VALUE, ":9: [customer:b] domains: \"y.test\" belongs to [customer:a]" },
};

static void
test_bad(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    struct config *cfg = load_text(bad[i].text, &path, &error);

    g_assert_null(cfg);
    g_assert_error(error, CONFIG_ERROR, bad[i].code);
    g_test_message("error: %s", error->message);
    /* Every message starts with the file it is about. */
    g_assert_true(g_str_has_prefix(error->message, path));
    g_assert_nonnull(strstr(error->message, bad[i].expect));
}

static void
test_plans(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text(MINIMAL "[plan:gold]\n"
                                           "hours = mon-sat 07:00-19:00\n"
                                           "timezone = Europe/Amsterdam\n"
                                           "sev2_response = 30m\n"
                                           "sev2_around_the_clock = yes\n"
                                           "[plan:standard]\n"
                                           "sev3_response = 2bd\n"
                                           "[escalation]\n"
                                           "stage1 = lead@example.com\n"
                                           "stage3 = director@example.com; vp@example.com\n"
                                           "warn_at = 80\n"
                                           "sev1_stage3_after = 4bh\n"
                                           "[customer:acme]\n"
                                           "domains = acme.com\n"
                                           "plan = gold\n",
                                   NULL, &error);
    const struct plan *gold, *standard;

    g_assert_no_error(error);
    gold = config_plan(cfg, "gold");
    standard = config_plan(cfg, "standard");
    g_assert_nonnull(gold);
    g_assert_nonnull(config_plan(cfg, "default"));
    g_assert_nonnull(config_plan(cfg, "extended"));
    g_assert_null(config_plan(cfg, "platinum"));
    g_assert_cmpstr(gold->timezone, ==, "Europe/Amsterdam");
    g_assert_cmpint(gold->goals[2][GOAL_RESPONSE].unit, ==, UNIT_REAL);
    g_assert_cmpint(gold->goals[2][GOAL_RESPONSE].amount, ==, 1800);
    g_assert_true(gold->around_the_clock[2]);
    g_assert_cmpint(calendar_day_length(gold->calendar), ==, 12 * 3600);
    /* A group named like a preset changes only what it says. */
    g_assert_cmpint(standard->goals[3][GOAL_RESPONSE].amount, ==, 2);
    g_assert_cmpint(standard->goals[1][GOAL_RESPONSE].amount, ==, 3600);
    g_assert_true(standard->around_the_clock[1]);
    g_assert_cmpstr(cfg->stage_contacts[1][0], ==, "lead@example.com");
    g_assert_cmpuint(g_strv_length(cfg->stage_contacts[3]), ==, 2);
    g_assert_null(cfg->stage_contacts[2][0]);
    g_assert_cmpuint(cfg->ladder.warn_at, ==, 80);
    g_assert_cmpint(cfg->ladder.initial_stage[1], ==, 2);
    g_assert_cmpint(cfg->ladder.initial_stage[2], ==, 1);
    g_assert_cmpint(cfg->ladder.next_after[1].unit, ==, UNIT_BUSINESS_HOURS);
    g_assert_cmpint(cfg->ladder.next_after[2].unit, ==, UNIT_BUSINESS_DAYS);
    g_assert_cmpint(cfg->ladder.next_after[2].amount, ==, 2);
    config_unref(cfg);
}

/* Judges one mail with the rules of CFG. */
static int
judge(const struct config *cfg, const char *subject, const char *text, const char *hint,
      char **reason)
{
    struct severity_verdict v;
    int severity;

    severity_judge(cfg->severity, subject, text, hint, 3, &v);
    severity = v.severity;
    *reason = g_steal_pointer(&v.reason);
    severity_verdict_clear(&v);
    return severity;
}

static void
test_severity(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text(MINIMAL "[severity]\n"
                                           "aliases = blocker=1; minor=4\n"
                                           "keywords = meltdown=1\n"
                                           "keywords_nl = datalek=1\n"
                                           "negations = just kidding=message\n"
                                           "negations_nl = grapje\n"
                                           "keyword_max = 1\n"
                                           "matrix = 1,1,1; 2,2,2; 3,3,3\n",
                                   NULL, &error);
    struct config *defaults = load_text(MINIMAL, NULL, &error);
    char *reason = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(cfg->severity_keyword_max, ==, 1);
    g_assert_cmpuint(defaults->severity_keyword_max, ==, 2);
    g_assert_cmpint(judge(cfg, "[minor] typo", "", NULL, &reason), ==, 4);
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(cfg, "Meltdown", "", "en", &reason), ==, 1);
    g_assert_cmpstr(reason, ==, "keyword \"meltdown\" (en)");
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(cfg, "Meltdown", "just kidding", "en", &reason), ==, 3);
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(cfg, "Datalek", "", "nl", &reason), ==, 1);
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(cfg, "Datalek, een grapje", "", "nl", &reason), ==, 3);
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(cfg, "x", "Impact: I-3\nUrgency: U-1\n", NULL, &reason), ==, 1);
    g_clear_pointer(&reason, g_free);
    /* The shipped lists, with keyword_max 2. */
    g_assert_cmpint(judge(defaults, "Productie ligt plat", "", "nl", &reason), ==, 2);
    g_clear_pointer(&reason, g_free);
    g_assert_cmpint(judge(defaults, "Question about storing attachments", "", "en", &reason), ==,
                    3);
    g_assert_cmpstr(reason, ==, "plan default");
    g_clear_pointer(&reason, g_free);
    config_unref(cfg);
    config_unref(defaults);
}

/* A PostgreSQL URI is kept as written: it is no file to make absolute. */
static void
test_database_uri(void)
{
    g_autoptr(GError) error = NULL;
    struct config *cfg = load_text("[outbound]\ntemplate_dir = templates\n[milter]\n"
                                   "database = postgresql://tm@db1/tickets?host=/run/postgresql\n"
                                   "secret_file = /etc/tm/secret\n"
                                   "support_addresses = support@example.com\n",
                                   NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(cfg->database, ==, "postgresql://tm@db1/tickets?host=/run/postgresql");
    g_assert_cmpstr(cfg->secret_file, ==, "/etc/tm/secret");
    config_unref(cfg);
}

static void
test_missing_file(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(config_load("/nonexistent/ticket-milter.conf", &error));
    g_assert_error(error, CONFIG_ERROR, CONFIG_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, "/nonexistent/ticket-milter.conf: cannot read"));
}

static void
test_shipped_example(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *with_templates = NULL;
    struct config *cfg;

    /* As shipped, but with the templates of the source tree. */
    g_assert_true(g_file_get_contents("etc/ticket-milter.conf", &text, NULL, NULL));
    with_templates = g_strconcat(text, "\n[outbound]\ntemplate_dir = templates\n", NULL);
    cfg = load_text(with_templates, NULL, &error);
    g_assert_no_error(error);
    config_unref(cfg);

    /* Its commented [severity] defaults are valid values too. */
    static const char *const keys[] = { "aliases",   "keywords",     "keywords_nl",
                                        "negations", "negations_nl", "matrix" };
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *commented = g_strdup_printf("\n#%s = ", keys[i]);
        g_autofree char *set = g_strdup_printf("\n%s = ", keys[i]);
        g_autofree char *before = g_steal_pointer(&with_templates);
        g_assert_nonnull(strstr(before, commented));
        g_auto(GStrv) parts = g_strsplit(before, commented, 2);
        with_templates = g_strjoinv(set, parts);
    }
    cfg = load_text(with_templates, NULL, &error);
    g_assert_no_error(error);
    config_unref(cfg);
}

/* The secret file: made 0600 on first use, refused when others can read it. */
static void
test_secret_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-secret-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "secret", NULL);
    g_autofree char *seeded = g_build_filename(dir, "seeded", NULL);
    g_autoptr(GError) error = NULL;
    GStatBuf sb;

    g_assert_null(config_secret_load(path, false, NULL, &error));
    g_assert_nonnull(strstr(error->message, "cannot read the secret file"));
    g_clear_error(&error);
    g_autofree char *made = config_secret_load(path, true, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(strlen(made), ==, 64);
    g_assert_cmpint(g_stat(path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    g_autofree char *again = config_secret_load(path, true, NULL, &error);
    g_assert_cmpstr(again, ==, made);
    /* An older database's secret moves into the file as it was. */
    g_autofree char *moved =
        config_secret_load(seeded, true, "an old secret of the database", &error);
    g_assert_cmpstr(moved, ==, "an old secret of the database");
    g_assert_cmpint(g_chmod(path, 0644), ==, 0);
    g_assert_null(config_secret_load(path, false, NULL, &error));
    g_assert_nonnull(strstr(error->message, "only its owner can read"));
    g_clear_error(&error);
    g_assert_true(g_file_set_contents(seeded, "short\n", -1, NULL));
    g_assert_cmpint(g_chmod(seeded, 0600), ==, 0);
    g_assert_null(config_secret_load(seeded, false, NULL, &error));
    g_assert_nonnull(strstr(error->message, "at least 16"));
    g_unlink(path);
    g_unlink(seeded);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-config-XXXXXX", NULL);
    g_test_add_func("/config/full", test_full);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/missing-file", test_missing_file);
    g_test_add_func("/config/database-uri", test_database_uri);
    g_test_add_func("/config/plans", test_plans);
    g_test_add_func("/config/severity", test_severity);
    g_test_add_func("/config/shipped-example", test_shipped_example);
    g_test_add_func("/config/secret-file", test_secret_file);
    g_test_add_func("/config/warnings/other", test_warnings_other);
    for (guint i = 0; i < G_N_ELEMENTS(warn_cases); i++) {
        g_autofree char *name = g_strdup_printf("/config/warnings/%s", warn_cases[i].name);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_warnings);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/config/bad/%s", bad[i].name);
        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_bad);
    }
    rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    g_free(tmpdir);
    return rc;
}
