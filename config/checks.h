/*
 * checks - what a configuration value must look like, one function a kind
 * of value (config.c's key table names which applies to each key).  Each
 * returns NULL when V is right, else the sentence that follows the value
 * in the error ("PATH:LINE: [group] key: "V" must be ...").  Pure: no
 * file or network is looked at (a time zone is looked up in GLib's
 * tables).  Private to config/.
 */
#ifndef CONFIG_CHECKS_H
#define CONFIG_CHECKS_H

const char *config_check_path(const char *v);
const char *config_check_database(const char *v);
const char *config_check_mode(const char *v);
const char *config_check_owner(const char *v);
const char *config_check_goal(const char *v);
const char *config_check_login(const char *v);
const char *config_check_token(const char *v);
const char *config_check_delimiter(const char *v);
const char *config_check_domain(const char *v);
const char *config_check_address(const char *v);
const char *config_check_socket(const char *v);
const char *config_check_prefix(const char *v);
const char *config_check_network(const char *v);
const char *config_check_smtp_url(const char *v);
const char *config_check_http_url(const char *v);
const char *config_check_from(const char *v);
const char *config_check_timezone(const char *v);
const char *config_check_language(const char *v);

#endif
