/*
 * Several threads share one handle: each pushes to its own repository and
 * all push to one shared group at once, claim, and finish runs. No call
 * fails, every run is accounted for, the shared group ends with exactly one
 * live run, and each thread reads its own last error.
 */
#include <pthread.h>

#include "check.h"

#define THREADS 8
#define PUSHES 25

static runs_handle *ledger;

struct worker {
    int index;
    int failures;
    int claimed;
    int error_was_own;
};

static void *work(void *arg)
{
    struct worker *me = arg;
    char repo[64];
    char sha[16];
    char bad_ref[64];

    snprintf(repo, sizeof repo, "work/thread-%d.git", me->index);
    for (int i = 0; i < PUSHES; i++) {
        runs_created *own = NULL;
        runs_created *shared = NULL;
        runs_run *claimed = NULL;
        runs_run *finished = NULL;

        snprintf(sha, sizeof sha, "%04x%03x", me->index + 1, i);
        if (runs_create(ledger, repo, "refs/heads/main", sha, RUNS_NO_TIME,
                        NULL, &own) != RUNS_STATUS_OK) {
            me->failures++;
        }
        if (runs_create(ledger, "work/shared.git", "refs/heads/main", sha,
                        RUNS_NO_TIME, NULL, &shared) != RUNS_STATUS_OK) {
            me->failures++;
        }
        if (runs_claim(ledger, repo, NULL, &claimed) != RUNS_STATUS_OK) {
            me->failures++;
        } else if (claimed != NULL) {
            me->claimed++;
            if (runs_transition(ledger, claimed->id, RUNS_STATE_ACTIVE,
                                RUNS_STATE_COMPLETE,
                                &finished) != RUNS_STATUS_OK) {
                me->failures++;
            }
        }
        runs_run_free(finished);
        runs_run_free(claimed);
        runs_created_free(own);
        runs_created_free(shared);
    }

    /* A failure of this thread's own, which no other thread may see. */
    snprintf(bad_ref, sizeof bad_ref, "thread-%d-ref", me->index);
    runs_created *never = NULL;
    if (runs_create(ledger, repo, bad_ref, "abcdef1", RUNS_NO_TIME, NULL,
                    &never) == RUNS_STATUS_INVALID_INPUT) {
        usleep(20000);
        me->error_was_own = strstr(runs_last_error_message(), bad_ref) != NULL;
    }
    return NULL;
}

static size_t count(const char *repo, uint32_t state)
{
    runs_run_list *page = NULL;
    size_t n = 0;
    if (runs_list(ledger, repo, NULL, NULL, state, 1000, NULL, &page) ==
        RUNS_STATUS_OK) {
        n = page->len;
        runs_run_list_free(page);
    }
    return n;
}

int main(void)
{
    char dir[256];
    char db[300];
    pthread_t threads[THREADS];
    struct worker workers[THREADS];

    make_temp_dir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/ledger.db", dir);
    ledger = open_record_only(db);

    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.index = i};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }

    for (int i = 0; i < THREADS; i++) {
        char repo[64];
        snprintf(repo, sizeof repo, "work/thread-%d.git", i);
        CHECK(workers[i].failures == 0);
        CHECK(workers[i].error_was_own);
        CHECK(count(repo, RUNS_ANY_STATE) == PUSHES);
        /* Every push superseded the one before unless it was claimed. */
        CHECK(count(repo, RUNS_STATE_COMPLETE) == (size_t)workers[i].claimed);
        CHECK(count(repo, RUNS_STATE_PENDING) + count(repo, RUNS_STATE_ACTIVE) <=
              1);
    }
    CHECK(count("work/shared.git", RUNS_ANY_STATE) == THREADS * PUSHES);
    CHECK(count("work/shared.git", RUNS_STATE_PENDING) == 1);
    CHECK(count("work/shared.git", RUNS_STATE_SUPERSEDED) ==
          THREADS * PUSHES - 1);

    runs_close(ledger);
    remove_temp_dir(dir);
    return report("c threads");
}
