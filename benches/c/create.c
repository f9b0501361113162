/*
 * The C side of the boundary benchmark (benches/c/run.sh): runs_create and
 * runs_get through the C library, with the same pushes as
 * capi/examples/bench_create.rs makes on the core directly. Each call's
 * result is freed, as a forge would, so that cost is counted too.
 *
 * Usage: create <ledger.db> <creates> [gets]. gets defaults to creates;
 * either may be 0. Prints one line: create_ns=<per call> get_ns=<per call>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <runledger.h>

#define GROUPS 50
#define WARM_UP 200

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "create: %s: %s\n", what, runs_last_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    runs_options *options = NULL;
    runs_handle *ledger = NULL;
    char refs[GROUPS][32];
    char (*shas)[16];
    char last_id[64] = "";
    long calls;
    long gets;
    long long started;
    long long create_ns;
    long long get_ns;

    if (argc < 3 || argc > 4 || (calls = strtol(argv[2], NULL, 10)) < 0 ||
        (gets = argc == 4 ? strtol(argv[3], NULL, 10) : calls) < 0) {
        fprintf(stderr, "usage: create <ledger.db> <creates> [gets]\n");
        return 2;
    }
    if (runs_options_new(&options) != RUNS_STATUS_OK ||
        runs_options_set_runtime_record_only(options) != RUNS_STATUS_OK ||
        runs_open_with(argv[1], options, &ledger) != RUNS_STATUS_OK) {
        return fail("open");
    }
    runs_options_free(options);
    for (int g = 0; g < GROUPS; g++) {
        snprintf(refs[g], sizeof refs[g], "refs/heads/b%d", g);
    }
    shas = malloc(sizeof *shas * (size_t)(WARM_UP + calls));
    if (shas == NULL) {
        return 2;
    }
    for (long i = 0; i < WARM_UP + calls; i++) {
        snprintf(shas[i], sizeof shas[i], "%08lx", i);
    }

    for (long i = 0; i < WARM_UP; i++) {
        runs_created *created = NULL;
        if (runs_create(ledger, "bench/r.git", refs[i % GROUPS], shas[i],
                        RUNS_NO_TIME, NULL, &created) != RUNS_STATUS_OK) {
            return fail("create");
        }
        snprintf(last_id, sizeof last_id, "%s", created->run.id);
        runs_created_free(created);
    }

    started = now_ns();
    for (long i = WARM_UP; i < WARM_UP + calls; i++) {
        runs_created *created = NULL;
        if (runs_create(ledger, "bench/r.git", refs[i % GROUPS], shas[i],
                        RUNS_NO_TIME, NULL, &created) != RUNS_STATUS_OK) {
            return fail("create");
        }
        runs_created_free(created);
    }
    create_ns = calls > 0 ? (now_ns() - started) / calls : 0;

    started = now_ns();
    for (long i = 0; i < gets; i++) {
        runs_run *run = NULL;
        if (runs_get(ledger, last_id, &run) != RUNS_STATUS_OK) {
            return fail("get");
        }
        runs_run_free(run);
    }
    get_ns = gets > 0 ? (now_ns() - started) / gets : 0;

    printf("create_ns=%lld get_ns=%lld\n", create_ns, get_ns);
    free(shas);
    runs_close(ledger);
    return 0;
}
