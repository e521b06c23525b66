/*
 * tsan - GLib's locks and queues, told to ThreadSanitizer (util/tsan.h).
 *
 * In a -fsanitize=thread build this file defines GLib's lock functions
 * itself.  The program is linked with them, so they stand in for GLib's
 * everywhere: in our code, and in GLib's, GObject's and GMime's own
 * calls, which go through the dynamic linker to the first definition it
 * finds, ours.  Each one calls GLib's (found with dlsym(RTLD_NEXT)) and
 * tells ThreadSanitizer what it just did: a release before letting go of
 * a lock, an acquire after taking it.  So whoever takes a mutex, wakes
 * from a wait on it, pops from a queue or finds a g_once done is seen to
 * come after everything done before the matching unlock, push or
 * g_once_init_leave.  A queue counts as one lock: a pop comes after every
 * push before it, which is more than the one item's hand-off (a race
 * between two pushers' other data goes unseen, never the other way).
 * Nothing here changes what the functions do or return.
 *
 * The program must hold this object: the Makefile's tsan build names
 * tsan_glib_annotated to the linker, so that it is taken from libticket.a
 * even into a program whose own code calls none of these.
 *
 * Edge cases: the queues are wrapped as well as the mutex because GLib's
 * GAsyncQueue waits on its GCond through a call inside libglib that does
 * not pass through here.  A GLib function we do not wrap that hands data
 * between threads (GThreadPool, g_bit_lock) would show as a race.
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

void
g_mutex_lock(GMutex *mutex)
{
    REAL(g_mutex_lock)(mutex);
    __tsan_acquire(mutex);
}

gboolean
g_mutex_trylock(GMutex *mutex)
{
    if (!REAL(g_mutex_trylock)(mutex))
        return FALSE;
    __tsan_acquire(mutex);
    return TRUE;
}

void
g_mutex_unlock(GMutex *mutex)
{
    __tsan_release(mutex);
    REAL(g_mutex_unlock)(mutex);
}

void
g_rec_mutex_lock(GRecMutex *mutex)
{
    REAL(g_rec_mutex_lock)(mutex);
    __tsan_acquire(mutex);
}

gboolean
g_rec_mutex_trylock(GRecMutex *mutex)
{
    if (!REAL(g_rec_mutex_trylock)(mutex))
        return FALSE;
    __tsan_acquire(mutex);
    return TRUE;
}

void
g_rec_mutex_unlock(GRecMutex *mutex)
{
    __tsan_release(mutex);
    REAL(g_rec_mutex_unlock)(mutex);
}

/* A reader comes after the writers before it; readers among themselves
 * need not be ordered, but ordering them hides no race between a reader
 * and a writer. */
void
g_rw_lock_writer_lock(GRWLock *lock)
{
    REAL(g_rw_lock_writer_lock)(lock);
    __tsan_acquire(lock);
}

gboolean
g_rw_lock_writer_trylock(GRWLock *lock)
{
    if (!REAL(g_rw_lock_writer_trylock)(lock))
        return FALSE;
    __tsan_acquire(lock);
    return TRUE;
}

void
g_rw_lock_writer_unlock(GRWLock *lock)
{
    __tsan_release(lock);
    REAL(g_rw_lock_writer_unlock)(lock);
}

void
g_rw_lock_reader_lock(GRWLock *lock)
{
    REAL(g_rw_lock_reader_lock)(lock);
    __tsan_acquire(lock);
}

gboolean
g_rw_lock_reader_trylock(GRWLock *lock)
{
    if (!REAL(g_rw_lock_reader_trylock)(lock))
        return FALSE;
    __tsan_acquire(lock);
    return TRUE;
}

void
g_rw_lock_reader_unlock(GRWLock *lock)
{
    __tsan_release(lock);
    REAL(g_rw_lock_reader_unlock)(lock);
}

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

void
g_async_queue_push(GAsyncQueue *queue, gpointer data)
{
    __tsan_release(queue);
    REAL(g_async_queue_push)(queue, data);
}

gpointer
g_async_queue_pop(GAsyncQueue *queue)
{
    gpointer data = REAL(g_async_queue_pop)(queue);

    __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_timeout_pop(GAsyncQueue *queue, guint64 timeout)
{
    gpointer data = REAL(g_async_queue_timeout_pop)(queue, timeout);

    if (data != NULL)
        __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_try_pop(GAsyncQueue *queue)
{
    gpointer data = REAL(g_async_queue_try_pop)(queue);

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
gboolean
(g_once_init_enter)(volatile void *location)
{
    gboolean mine = REAL(g_once_init_enter)(location);

    if (!mine)
        __tsan_acquire((void *)location);
    return mine;
}

void
(g_once_init_leave)(volatile void *location, gsize result)
{
    __tsan_release((void *)location);
    REAL(g_once_init_leave)(location, result);
}
#endif
