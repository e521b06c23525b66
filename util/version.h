/*
 * version - the release this build is, for --version, the log and the
 * metrics' build_info.
 */
#ifndef TM_UTIL_VERSION_H
#define TM_UTIL_VERSION_H

#define TM_VERSION "0.1.0"

#endif
