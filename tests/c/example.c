/* A forge's push hook and a runner, in C: the README's example. */
#include <stdio.h>

#include <runledger.h>

static int fail(const char *what, runs_status status)
{
    fprintf(stderr, "%s: %s: %s\n", what, runs_status_name(status),
            runs_last_error_message());
    return 1;
}

int main(void)
{
    runs_options *options = NULL;
    runs_handle *ledger = NULL;
    runs_created *first = NULL;
    runs_created *second = NULL;
    runs_run *claimed = NULL;
    runs_status status;

    /* Record-only: this example starts no containers. */
    runs_options_new(&options);
    runs_options_set_runtime_record_only(options);
    status = runs_open_with("example.db", options, &ledger);
    runs_options_free(options);
    if (status != RUNS_STATUS_OK) {
        return fail("open", status);
    }

    /* Two pushes to main: the second supersedes the first. */
    status = runs_create(ledger, "work/tools.git", "refs/heads/main",
                         "4f2a9c1", RUNS_NO_TIME, NULL, &first);
    if (status != RUNS_STATUS_OK) {
        return fail("create", status);
    }
    status = runs_create(ledger, "work/tools.git", "refs/heads/main",
                         "9b3e7d2", RUNS_NO_TIME, NULL, &second);
    if (status != RUNS_STATUS_OK) {
        return fail("create", status);
    }
    for (size_t i = 0; i < second->superseded_len; i++) {
        printf("superseded %s (was %s)\n", second->superseded[i].run_id,
               runs_state_name(second->superseded[i].previous_state));
    }

    /* A runner claims the newest run and reports success. */
    status = runs_claim(ledger, NULL, NULL, &claimed);
    if (status == RUNS_STATUS_OK && claimed != NULL) {
        runs_run *done = NULL;
        status = runs_transition(ledger, claimed->id, RUNS_STATE_ACTIVE,
                                 RUNS_STATE_COMPLETE, &done);
        if (status == RUNS_STATUS_CONFLICT) {
            /* A newer push superseded the run while it ran. */
            printf("run %s was superseded\n", claimed->id);
        } else if (status == RUNS_STATUS_OK) {
            printf("run %s of %s is %s\n", done->id, done->sha,
                   runs_state_name(done->state));
        }
        runs_run_free(done);
    }

    runs_run_free(claimed);
    runs_created_free(first);
    runs_created_free(second);
    runs_close(ledger);
    return status == RUNS_STATUS_OK ? 0 : fail("claim or complete", status);
}
