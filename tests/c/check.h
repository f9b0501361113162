/*
 * A very small test harness for the C programs of the test suite: checks
 * count rather than abort, so one run reports every failure, and each
 * program ends with a line "<suite>: N passed, N failed".
 */
#ifndef RUNLEDGER_TEST_CHECK_H
#define RUNLEDGER_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runledger.h"

static int checks_passed;
static int checks_failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            checks_passed++;                                               \
        } else {                                                           \
            checks_failed++;                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

/* A call that must succeed; on failure the library's message is shown. */
#define CHECK_OK(call)                                                     \
    do {                                                                   \
        runs_status check_status_ = (call);                                \
        if (check_status_ == RUNS_STATUS_OK) {                             \
            checks_passed++;                                               \
        } else {                                                           \
            checks_failed++;                                               \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__,       \
                    __LINE__, #call, runs_status_name(check_status_),      \
                    runs_last_error_message());                            \
        }                                                                  \
    } while (0)

/* A call that must fail with one status. */
#define CHECK_STATUS(call, expected)                                       \
    do {                                                                   \
        runs_status check_status_ = (call);                                \
        if (check_status_ == (expected)) {                                 \
            checks_passed++;                                               \
        } else {                                                           \
            checks_failed++;                                               \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n",   \
                    __FILE__, __LINE__, #call,                             \
                    runs_status_name(check_status_),                       \
                    runs_status_name(expected),                            \
                    runs_last_error_message());                            \
        }                                                                  \
    } while (0)

#define CHECK_STR(actual, expected)                                        \
    CHECK((actual) != NULL && strcmp((actual), (expected)) == 0)

/* True when the last error message on this thread contains `part`. */
static inline int last_error_mentions(const char *part)
{
    return strstr(runs_last_error_message(), part) != NULL;
}

/* A fresh directory for this program's ledger files. */
static inline void make_temp_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/runledger-c-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static inline void remove_temp_dir(const char *dir)
{
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

/*
 * Opens `path` with the record-only runtime, so tests that do not exercise
 * Docker never depend on the engine. Exits on failure: nothing else can be
 * tested without a handle.
 */
static inline runs_handle *open_record_only(const char *path)
{
    runs_options *options = NULL;
    runs_handle *handle = NULL;
    if (runs_options_new(&options) != RUNS_STATUS_OK ||
        runs_options_set_runtime_record_only(options) != RUNS_STATUS_OK ||
        runs_open_with(path, options, &handle) != RUNS_STATUS_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path,
                runs_last_error_message());
        exit(2);
    }
    runs_options_free(options);
    return handle;
}

/* Prints the summary line and gives the exit code. */
static inline int report(const char *suite)
{
    fflush(stderr);
    printf("%s: %d passed, %d failed\n", suite, checks_passed,
           checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
