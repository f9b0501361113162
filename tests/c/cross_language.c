/*
 * The C half of the cross-language test: runs against the same ledger file
 * as the Rust program capi/examples/cross_language_peer.rs, at the same
 * time. Each side supersedes a run of the other and must see it.
 *
 * Usage: cross_language <ledger.db>
 */
#include "check.h"

#define SHARED_REPO "xlang/shared.git"
#define MAIN "refs/heads/main"
#define OWN_PUSHES 20
#define PATIENCE_MS 60000

/*
 * Polls `repo` until a run with `sha` exists (or, with `sha` NULL, until it
 * holds `count` runs) and copies the id of the run found to `id`.
 */
static int wait_for(runs_handle *ledger, const char *repo, const char *sha,
                    size_t count, char *id, size_t size)
{
    for (int waited = 0; waited < PATIENCE_MS; waited += 20) {
        runs_run_list *page = NULL;
        int found = 0;
        if (runs_list(ledger, repo, NULL, NULL, RUNS_ANY_STATE, 1000, NULL,
                      &page) == RUNS_STATUS_OK) {
            for (size_t i = 0; i < page->len && !found; i++) {
                if (sha != NULL ? strcmp(page->runs[i].sha, sha) == 0
                                : page->len == count) {
                    snprintf(id, size, "%s", page->runs[i].id);
                    found = 1;
                }
            }
            runs_run_list_free(page);
        }
        if (found) {
            return 0;
        }
        usleep(20000);
    }
    return -1;
}

int main(int argc, char **argv)
{
    runs_handle *ledger;
    runs_created *first = NULL;
    runs_created *third = NULL;
    runs_run *mine = NULL;
    char from_rust[64] = "";
    char any[64];

    if (argc != 2) {
        fprintf(stderr, "usage: cross_language <ledger.db>\n");
        return 2;
    }
    ledger = open_record_only(argv[1]);

    CHECK_OK(runs_create(ledger, SHARED_REPO, MAIN, "aaaaaaa", RUNS_NO_TIME,
                         NULL, &first));
    for (int i = 0; i < OWN_PUSHES; i++) {
        runs_created *made = NULL;
        char ref[64];
        char sha[16];
        snprintf(ref, sizeof ref, "refs/heads/c%d", i);
        snprintf(sha, sizeof sha, "%07x", i);
        CHECK_OK(runs_create(ledger, "xlang/c.git", ref, sha, RUNS_NO_TIME,
                             NULL, &made));
        runs_created_free(made);
    }

    /* The Rust side's push supersedes ours. */
    CHECK(wait_for(ledger, SHARED_REPO, "bbbbbbb", 0, from_rust,
                   sizeof from_rust) == 0);
    if (first != NULL) {
        CHECK_OK(runs_get(ledger, first->run.id, &mine));
        CHECK(mine != NULL && mine->state == RUNS_STATE_SUPERSEDED);
        CHECK(mine != NULL && mine->superseded_by != NULL &&
              strcmp(mine->superseded_by, from_rust) == 0);
    }

    /* Ours supersedes the Rust side's. */
    CHECK_OK(runs_create(ledger, SHARED_REPO, MAIN, "ccccccc", RUNS_NO_TIME,
                         NULL, &third));
    CHECK(third != NULL && third->superseded_len == 1 &&
          strcmp(third->superseded[0].run_id, from_rust) == 0);

    CHECK(wait_for(ledger, "xlang/rust.git", NULL, OWN_PUSHES, any,
                   sizeof any) == 0);

    runs_run_free(mine);
    runs_created_free(first);
    runs_created_free(third);
    runs_close(ledger);
    return report("c cross-language");
}
