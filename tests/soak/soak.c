/*
 * Soak load from C: until the deadline (argv[2] seconds), create runs on a
 * few refs, claim, and finish what it claimed. Another process moving a
 * run first (a conflict) is expected; any other failure ends the program
 * with status 1 and the library's message.
 */
#include <runledger.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
    fprintf(stderr, "soak.c: %s: %s\n", what, runs_last_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: soak DB SECONDS\n");
        return 2;
    }
    runs_options *options = NULL;
    runs_handle *ledger = NULL;
    if (runs_options_new(&options) != RUNS_STATUS_OK ||
        runs_options_set_runtime_record_only(options) != RUNS_STATUS_OK ||
        runs_open_with(argv[1], options, &ledger) != RUNS_STATUS_OK)
        return fail("open");
    runs_options_free(options);

    const char *refs[] = {"refs/heads/main", "refs/heads/c-dev",
                          "refs/pull/3/head"};
    time_t deadline = time(NULL) + atol(argv[2]);
    unsigned long operations = 0;
    srand((unsigned)getpid());
    while (time(NULL) < deadline) {
        char sha[16];
        snprintf(sha, sizeof sha, "c%06lx%05x", operations, rand() & 0xfffff);
        runs_created *created = NULL;
        if (runs_create(ledger, "soak/c.git", refs[rand() % 3], sha,
                        RUNS_NO_TIME, NULL, &created) != RUNS_STATUS_OK)
            return fail("create");
        runs_created_free(created);

        runs_run *claimed = NULL;
        if (runs_claim(ledger, "soak/c.git", NULL, &claimed) != RUNS_STATUS_OK)
            return fail("claim");
        if (claimed != NULL) {
            runs_run *done = NULL;
            runs_status status = runs_transition(
                ledger, claimed->id, RUNS_STATE_ACTIVE,
                rand() % 2 ? RUNS_STATE_COMPLETE : RUNS_STATE_FAILED, &done);
            if (status != RUNS_STATUS_OK && status != RUNS_STATUS_CONFLICT)
                return fail("transition");
            runs_run_free(done);
            runs_run_free(claimed);
        }
        operations += 2;
    }
    runs_close(ledger);
    printf("soak.c: %lu operations\n", operations);
    return 0;
}
