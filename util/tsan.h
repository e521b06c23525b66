/*
 * tsan - whether this is a ThreadSanitizer build ("make tsan").
 *
 * GLib's GMutex, GCond, GAsyncQueue and g_once are built on atomics and
 * futex(2) inside libglib, which is not compiled for ThreadSanitizer: it
 * sees neither the lock nor the hand-off, and would report a race on
 * every datum they protect.  util/tsan.c, compiled only when TM_TSAN,
 * stands in for those functions and tells ThreadSanitizer what each one
 * did; every other build sees GLib's functions as they are.
 */
#ifndef TM_UTIL_TSAN_H
#define TM_UTIL_TSAN_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif

/* TM_TSAN: this object is compiled with -fsanitize=thread (gcc names it
 * __SANITIZE_THREAD__, clang __has_feature). */
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define TM_TSAN 1
#else
#define TM_TSAN 0
#endif

#endif
