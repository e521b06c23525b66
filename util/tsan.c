/*
 * tsan - GLib's locks, queues and time-zone cache, told to ThreadSanitizer
 * (util/tsan.h).
 *
 * In a -fsanitize=thread build this file defines those GLib functions
 * itself.  The program is linked with them, so they stand in for GLib's
 * in our code and in every library's call that goes through the dynamic
 * linker (GMime's, GObject's): the first definition it finds is ours.
 * Each one calls GLib's (found with dlsym(RTLD_NEXT)) and tells
 * ThreadSanitizer what it just did: a release before letting go of a
 * lock, an acquire after taking it.  So whoever takes a mutex, wakes from
 * a wait on it, pops from a queue or finds a g_once done is seen to come
 * after everything done before the matching unlock, push or
 * g_once_init_leave.  A queue counts as one lock: a pop comes after every
 * push before it, which is more than the one item's hand-off (a race
 * between two pushers' other data goes unseen, never the other way).
 * What the functions do and return is GLib's.
 *
 * The program must hold this object: the Makefile's tsan build names
 * tsan_glib_annotated to the linker, so that it is taken from libticket.a
 * even into a program whose own code calls none of these.
 *
 * Edge cases: libglib calls its own functions directly, not through the
 * dynamic linker, so what it does inside (GAsyncQueue's mutex and GCond,
 * the time-zone cache's lock) does not pass through here: hence the
 * wrappers of the queue and of the time-zone calls themselves.  A GLib
 * function we do not wrap that hands data between threads (GThreadPool,
 * g_bit_lock) would show as a race.
 * On failure: a function dlsym() cannot find ends the program with a line
 * saying which; a libglib without it could not have been linked.
 *
 * Only in a -fsanitize=thread build; anywhere else this file is empty.
 */
#include "util/tsan.h"

#if TM_TSAN
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <sanitizer/tsan_interface.h>

#include <glib.h>

int tsan_glib_annotated = 1;

/* In ThreadSanitizer's runtime, not in its header: stop and start
 * recording this thread's memory accesses (they nest). */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

/* UNRECORDED(CALL): CALL with this thread's memory accesses unrecorded. */
#define UNRECORDED(call)                                                                           \
    do {                                                                                           \
        __tsan_ignore_thread_begin();                                                              \
        call;                                                                                      \
        __tsan_ignore_thread_end();                                                                \
    } while (0)

/* GLib's NAME, looked up once (a race to look it up finds the same). */
static void *
real_function(void **cache, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

    if (fn == NULL) {
        fn = dlsym(RTLD_NEXT, name);
        if (fn == NULL) {
            fprintf(stderr, "tsan: GLib has no %s: %s\n", name, dlerror());
            abort();
        }
        __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
    }
    return fn;
}

/* REAL(NAME): GLib's function NAME, with NAME's own type. */
#define REAL(name)                                                                                 \
    ({                                                                                             \
        static void *cache_;                                                                       \
        (__typeof__(&(name)))real_function(&cache_, #name);                                        \
    })

/* ---- mutexes ---- */

/* LOCK_FUNCTIONS(TYPE, PREFIX): PREFIX_lock, PREFIX_trylock and
 * PREFIX_unlock on a TYPE, each GLib's with its acquire or release. */
#define LOCK_FUNCTIONS(type, prefix)                                                               \
    void prefix##_lock(type *lock)                                                                 \
    {                                                                                              \
        REAL(prefix##_lock)(lock);                                                                 \
        __tsan_acquire(lock);                                                                      \
    }                                                                                              \
                                                                                                   \
    gboolean prefix##_trylock(type *lock)                                                          \
    {                                                                                              \
        if (!REAL(prefix##_trylock)(lock))                                                         \
            return FALSE;                                                                          \
        __tsan_acquire(lock);                                                                      \
        return TRUE;                                                                               \
    }                                                                                              \
                                                                                                   \
    void prefix##_unlock(type *lock)                                                               \
    {                                                                                              \
        __tsan_release(lock);                                                                      \
        REAL(prefix##_unlock)(lock);                                                               \
    }

LOCK_FUNCTIONS(GMutex, g_mutex)
LOCK_FUNCTIONS(GRecMutex, g_rec_mutex)
/* A reader comes after the writers before it; readers among themselves
 * need not be ordered, but ordering them hides no race between a reader
 * and a writer. */
LOCK_FUNCTIONS(GRWLock, g_rw_lock_writer)
LOCK_FUNCTIONS(GRWLock, g_rw_lock_reader)

/* ---- conditions: a wait lets go of the mutex and takes it again before
 * it returns, also when it times out ---- */

void
g_cond_wait(GCond *cond, GMutex *mutex)
{
    __tsan_release(mutex);
    REAL(g_cond_wait)(cond, mutex);
    __tsan_acquire(mutex);
}

gboolean
g_cond_wait_until(GCond *cond, GMutex *mutex, gint64 end_time)
{
    gboolean signalled;

    __tsan_release(mutex);
    signalled = REAL(g_cond_wait_until)(cond, mutex, end_time);
    __tsan_acquire(mutex);
    return signalled;
}

/* ---- queues ---- */

/* The queue's own list node is allocated by the push and freed by the
 * pop, inside GLib and under its lock; ThreadSanitizer sees only the
 * malloc() and free(), which the annotations (one before the push, one
 * after the pop) cannot put in order.  So while GLib's function runs the
 * thread's memory accesses are not recorded: GLib touches only its queue
 * there, and the item is a pointer it stores and gives back. */
void
g_async_queue_push(GAsyncQueue *queue, gpointer data)
{
    __tsan_release(queue);
    UNRECORDED(REAL(g_async_queue_push)(queue, data));
}

gpointer
g_async_queue_pop(GAsyncQueue *queue)
{
    gpointer data;

    UNRECORDED(data = REAL(g_async_queue_pop)(queue));
    __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_timeout_pop(GAsyncQueue *queue, guint64 timeout)
{
    gpointer data;

    UNRECORDED(data = REAL(g_async_queue_timeout_pop)(queue, timeout));
    if (data != NULL)
        __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_try_pop(GAsyncQueue *queue)
{
    gpointer data;

    UNRECORDED(data = REAL(g_async_queue_try_pop)(queue));
    if (data != NULL)
        __tsan_acquire(queue);
    return data;
}

/* ---- g_once ---- */

/* FALSE: another thread ran the initialisation (this one may have waited
 * for it), and what it wrote is ours to read.  The macro's fast path, an
 * atomic load in the caller's object, synchronises with the release below
 * where the caller is instrumented; in GLib's and GMime's it is not seen,
 * and needs not be: their reads are not instrumented either. */
/* In parentheses: glib.h has a macro of the same name. */
/* clang-format off */
gboolean
(g_once_init_enter)(volatile void *location)
/* clang-format on */
{
    gboolean mine = REAL(g_once_init_enter)(location);

    if (!mine)
        __tsan_acquire((void *)location);
    return mine;
}

/* clang-format off */
void
(g_once_init_leave)(volatile void *location, gsize result)
/* clang-format on */
{
    __tsan_release((void *)location);
    REAL(g_once_init_leave)(location, result);
}
/* ---- GLib's time-zone cache ----
 *
 * GLib keeps each GTimeZone it made in one table, by name, until its last
 * reference goes: g_time_zone_new_identifier() finds a zone another thread
 * made (GMime's date parser makes one for each offset it reads), and the
 * last unref, often through g_date_time_unref(), takes it out and frees
 * it.  GLib does that under a lock of its own that it takes by a direct
 * call, out of our reach, so ThreadSanitizer would see one thread free or
 * compare what another wrote.  The calls that can make or free a zone run
 * with the thread's accesses unrecorded, as the queue's do: GLib touches
 * only its zones and dates there.  Not a lock of ours: one around every
 * g_date_time_unref() would order all threads at each, and hide races
 * that have nothing to do with time.  The UTC zone, which GLib makes once
 * and keeps, is made before main() so that no thread is first to make
 * it. */

GTimeZone *
g_time_zone_new_identifier(const gchar *identifier)
{
    GTimeZone *tz;

    UNRECORDED(tz = REAL(g_time_zone_new_identifier)(identifier));
    return tz;
}

GTimeZone *
g_time_zone_new_local(void)
{
    GTimeZone *tz;

    UNRECORDED(tz = REAL(g_time_zone_new_local)());
    return tz;
}

void
g_time_zone_unref(GTimeZone *tz)
{
    UNRECORDED(REAL(g_time_zone_unref)(tz));
}

void
g_date_time_unref(GDateTime *datetime)
{
    UNRECORDED(REAL(g_date_time_unref)(datetime));
}

/* An offset in the text ("+01:00") is a zone of that name. */
GDateTime *
g_date_time_new_from_iso8601(const gchar *text, GTimeZone *default_tz)
{
    GDateTime *dt;

    UNRECORDED(dt = REAL(g_date_time_new_from_iso8601)(text, default_tz));
    return dt;
}

__attribute__((constructor)) static void
zone_utc_first(void)
{
    g_time_zone_unref(g_time_zone_new_utc());
}
#endif
