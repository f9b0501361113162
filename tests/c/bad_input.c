/*
 * Every bad input C can pass: NULL in each pointer argument, bytes that are
 * not UTF-8, unknown state numbers, oversized strings, files that are not
 * ledgers. Each is refused with a status and a message, leaves the
 * out-parameter as it was, and writes nothing to the ledger.
 */
#include "check.h"

#define REPO "work/bad.git"
#define MAIN "refs/heads/main"

static const char not_utf8[] = {'w', 'o', 'r', 'k', '/', (char)0xff, 'x',
                                '\0'};

/* A value no call may write: out-parameters must keep it on error. */
#define UNTOUCHED ((void *)0x1)

static char dir[256];
static char db[300];

static size_t count_runs(runs_handle *ledger)
{
    runs_run_list *page = NULL;
    size_t count = 0;
    if (runs_list(ledger, NULL, NULL, NULL, RUNS_ANY_STATE, 1000, NULL,
                  &page) == RUNS_STATUS_OK) {
        count = page->len;
        runs_run_list_free(page);
    }
    return count;
}

static void null_in_each_pointer_argument_is_refused(runs_handle *ledger,
                                                     const char *run_id)
{
    runs_handle *no_handle = NULL;
    runs_created *created = UNTOUCHED;
    runs_run *run = UNTOUCHED;
    runs_run_list *list = UNTOUCHED;
    runs_history_list *history = UNTOUCHED;
    runs_labels *labels = UNTOUCHED;
    runs_reconciled *reconciled = UNTOUCHED;
    runs_options *options = UNTOUCHED;
    runs_handle *opened = UNTOUCHED;
    runs_state state = 77;
    bool allowed = true;

    CHECK_STATUS(runs_create(no_handle, REPO, MAIN, "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("runs_create: handle is NULL"));
    CHECK_STATUS(runs_create(ledger, NULL, MAIN, "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("repo is NULL"));
    CHECK_STATUS(runs_create(ledger, REPO, NULL, "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("ref_name is NULL"));
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, NULL, RUNS_NO_TIME, NULL,
                             &created),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("sha is NULL"));
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, "abcdef1", RUNS_NO_TIME,
                             NULL, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("out is NULL"));
    CHECK(created == UNTOUCHED);

    CHECK_STATUS(runs_get(no_handle, run_id, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_get(ledger, NULL, &run), RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_get(ledger, run_id, NULL), RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_claim(no_handle, NULL, NULL, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_claim(ledger, NULL, NULL, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_transition(no_handle, run_id, RUNS_STATE_PENDING,
                                 RUNS_STATE_ACTIVE, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_transition(ledger, NULL, RUNS_STATE_PENDING,
                                 RUNS_STATE_ACTIVE, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_transition(ledger, run_id, RUNS_STATE_PENDING,
                                 RUNS_STATE_ACTIVE, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_attach_container(no_handle, run_id, "c1", &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_attach_container(ledger, NULL, "c1", &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_attach_container(ledger, run_id, NULL, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_attach_container(ledger, run_id, "c1", NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_heartbeat(no_handle, run_id, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_heartbeat(ledger, NULL, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_heartbeat(ledger, run_id, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_cancel(no_handle, run_id, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_cancel(ledger, NULL, &run), RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_cancel(ledger, run_id, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_wait_for_change(no_handle, run_id, RUNS_STATE_PENDING,
                                      1, &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_wait_for_change(ledger, NULL, RUNS_STATE_PENDING, 1,
                                      &run),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_wait_for_change(ledger, run_id, RUNS_STATE_PENDING, 1,
                                      NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(run == UNTOUCHED);

    CHECK_STATUS(runs_list(no_handle, NULL, NULL, NULL, RUNS_ANY_STATE, 10,
                           NULL, &list),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, NULL, RUNS_ANY_STATE, 10,
                           NULL, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_prune(no_handle, 1, 0, &list),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_prune(ledger, 1, 0, NULL), RUNS_STATUS_NULL_ARGUMENT);
    CHECK(list == UNTOUCHED);
    CHECK_STATUS(runs_history(no_handle, run_id, &history),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_history(ledger, NULL, &history),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_history(ledger, run_id, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(history == UNTOUCHED);
    CHECK_STATUS(runs_container_labels(no_handle, run_id, &labels),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_container_labels(ledger, NULL, &labels),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_container_labels(ledger, run_id, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(labels == UNTOUCHED);
    CHECK_STATUS(runs_reconcile(no_handle, &reconciled),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_reconcile(ledger, NULL), RUNS_STATUS_NULL_ARGUMENT);
    CHECK(reconciled == UNTOUCHED);

    CHECK_STATUS(runs_open(NULL, &opened), RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("path is NULL"));
    CHECK_STATUS(runs_open(db, NULL), RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_open_with(db, NULL, &opened),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("options is NULL"));
    CHECK_OK(runs_options_new(&options));
    CHECK_STATUS(runs_open_with(NULL, options, &opened),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(last_error_mentions("path is NULL"));
    CHECK_STATUS(runs_open_with(db, options, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    runs_options_free(options);
    options = UNTOUCHED;
    CHECK(opened == UNTOUCHED);
    CHECK_STATUS(runs_options_new(NULL), RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_lease_ms(NULL, 10),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_busy_timeout_ms(NULL, 10),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_synchronous(NULL, 1),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_background_checkpoints(NULL, false),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_kill_grace_ms(NULL, 1),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_kill_timeout_ms(NULL, 1),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_runtime_docker(NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_runtime_record_only(NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_base_dir(NULL, dir),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_add_protected_ref(NULL, MAIN),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_kill_signal(NULL, "SIGTERM"),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_runtime_docker_at(NULL,
                                                    "unix:///x.sock"),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(options == UNTOUCHED);
    CHECK_OK(runs_options_new(&options));
    CHECK_STATUS(runs_options_add_protected_ref(options, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_kill_signal(options, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_options_set_runtime_docker_at(options, NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    runs_options_free(options);

    CHECK_STATUS(runs_state_from_name(NULL, &state),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_state_from_name("active", NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(runs_may_become(RUNS_STATE_PENDING, RUNS_STATE_ACTIVE,
                                 NULL),
                 RUNS_STATUS_NULL_ARGUMENT);
    CHECK(state == 77 && allowed);
}

static void invalid_utf8_in_each_string_is_refused(runs_handle *ledger,
                                                    const char *run_id)
{
    runs_created *created = UNTOUCHED;
    runs_run *run = UNTOUCHED;
    runs_run_list *list = UNTOUCHED;
    runs_history_list *history = UNTOUCHED;
    runs_labels *labels = UNTOUCHED;
    runs_handle *opened = UNTOUCHED;
    runs_options *options = NULL;
    runs_state state = 77;

    CHECK_STATUS(runs_create(ledger, not_utf8, MAIN, "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(last_error_mentions("repo is not valid UTF-8"));
    CHECK_STATUS(runs_create(ledger, REPO, not_utf8, "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, not_utf8, RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, "abcdef1", RUNS_NO_TIME,
                             not_utf8, &created),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(last_error_mentions("group is not valid UTF-8"));
    CHECK(created == UNTOUCHED);
    CHECK_STATUS(runs_get(ledger, not_utf8, &run), RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_claim(ledger, not_utf8, NULL, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_claim(ledger, NULL, not_utf8, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_attach_container(ledger, run_id, not_utf8, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_attach_container(ledger, not_utf8, "c1", &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_transition(ledger, not_utf8, RUNS_STATE_PENDING,
                                 RUNS_STATE_ACTIVE, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(last_error_mentions("run_id is not valid UTF-8"));
    CHECK_STATUS(runs_heartbeat(ledger, not_utf8, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_cancel(ledger, not_utf8, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_wait_for_change(ledger, not_utf8, RUNS_STATE_PENDING,
                                      1, &run),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(run == UNTOUCHED);
    CHECK_STATUS(runs_history(ledger, not_utf8, &history),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(history == UNTOUCHED);
    CHECK_STATUS(runs_container_labels(ledger, not_utf8, &labels),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(labels == UNTOUCHED);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, NULL, RUNS_ANY_STATE, 10,
                           not_utf8, &list),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_list(ledger, NULL, not_utf8, NULL, RUNS_ANY_STATE, 10,
                           NULL, &list),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_list(ledger, not_utf8, NULL, NULL, RUNS_ANY_STATE, 10,
                           NULL, &list),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, not_utf8, RUNS_ANY_STATE, 10,
                           NULL, &list),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(list == UNTOUCHED);
    CHECK_STATUS(runs_open(not_utf8, &opened), RUNS_STATUS_INVALID_UTF8);
    CHECK(opened == UNTOUCHED);
    CHECK_STATUS(runs_state_from_name(not_utf8, &state),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(state == 77);
    CHECK_OK(runs_options_new(&options));
    CHECK_STATUS(runs_options_set_base_dir(options, not_utf8),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_options_add_protected_ref(options, not_utf8),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_options_set_kill_signal(options, not_utf8),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_options_set_runtime_docker_at(options, not_utf8),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK_STATUS(runs_open_with(not_utf8, options, &opened),
                 RUNS_STATUS_INVALID_UTF8);
    CHECK(opened == UNTOUCHED);
    runs_options_free(options);
}

static void unknown_states_and_malformed_values_are_invalid_input(
    runs_handle *ledger, const char *run_id)
{
    runs_created *created = UNTOUCHED;
    runs_run *run = UNTOUCHED;
    runs_run_list *list = UNTOUCHED;
    runs_state state = 77;
    bool allowed = true;
    char oversized[300];

    CHECK_STATUS(runs_transition(ledger, run_id, 6, RUNS_STATE_ACTIVE, &run),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("unknown state 6"));
    CHECK_STATUS(runs_transition(ledger, run_id, RUNS_STATE_PENDING,
                                 0xffffffffu, &run),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_wait_for_change(ledger, run_id, 9, 1, &run),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(run == UNTOUCHED);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, NULL, 42, 10, NULL, &list),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, NULL, RUNS_ANY_STATE, 0,
                           NULL, &list),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_list(ledger, NULL, NULL, NULL, RUNS_ANY_STATE, 10,
                           "not-a-cursor", &list),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(list == UNTOUCHED);
    CHECK_STATUS(runs_may_become(RUNS_STATE_COUNT, 0, &allowed),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_state_from_name("running", &state),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(state == 77 && allowed);

    memset(oversized, 'r', sizeof oversized - 1);
    oversized[sizeof oversized - 1] = '\0';
    CHECK_STATUS(runs_create(ledger, oversized, MAIN, "abcdef1",
                             RUNS_NO_TIME, NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("the limit is 256"));
    CHECK_STATUS(runs_create(ledger, REPO, oversized, "abcdef1",
                             RUNS_NO_TIME, NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, "abcdef1", RUNS_NO_TIME,
                             oversized, &created),
                 RUNS_STATUS_INVALID_INPUT);
    memset(oversized, 'a', sizeof oversized - 1);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, oversized, RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("sha"));
    CHECK_STATUS(runs_create(ledger, REPO, "main", "abcdef1", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, "not-hex!", RUNS_NO_TIME,
                             NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_create(ledger, "../escape", MAIN, "abcdef1",
                             RUNS_NO_TIME, NULL, &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_create(ledger, "", MAIN, "abcdef1", RUNS_NO_TIME, NULL,
                             &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_create(ledger, REPO, MAIN, "abcdef1", INT64_MAX, NULL,
                             &created),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(created == UNTOUCHED);
    CHECK_STATUS(runs_attach_container(ledger, run_id, oversized, &run),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_get(ledger, "no-such-run", &run),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(run == UNTOUCHED);
}

static void bad_options_are_refused_and_keep_the_old_value(void)
{
    runs_options *options = NULL;
    runs_handle *opened = UNTOUCHED;
    char path[300];

    CHECK_OK(runs_options_new(&options));
    CHECK_OK(runs_options_set_runtime_record_only(options));
    CHECK_OK(runs_options_set_kill_signal(options, "SIGTERM"));
    CHECK_OK(runs_options_set_kill_grace_ms(options, 500));
    CHECK_OK(runs_options_set_background_checkpoints(options, false));
    CHECK_STATUS(runs_options_set_synchronous(options, 4),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_busy_timeout_ms(options, 0),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_lease_ms(options, 0),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_kill_timeout_ms(options, 0),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_kill_signal(options, "KILL; rm -rf"),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_kill_signal(options, ""),
                 RUNS_STATUS_INVALID_INPUT);
    /* Docker takes "TERM", but the ledger stores one spelling. */
    CHECK_STATUS(runs_options_set_kill_signal(options, "TERM"),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("kill_signal"));
    CHECK_STATUS(runs_options_set_kill_signal(options, "65"),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_base_dir(options, ""),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_set_runtime_docker_at(options, ""),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK_STATUS(runs_options_add_protected_ref(options, "release/*"),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("protected_refs"));

    /* Opening checks every setting again (busy timeout, lease, signal,
     * patterns): it succeeds only if no refused value was stored, and the
     * record-only runtime set before the refusals still holds. */
    snprintf(path, sizeof path, "%s/options.db", dir);
    CHECK_OK(runs_open_with(path, options, &opened));
    if (opened != UNTOUCHED) {
        runs_created *created = NULL;
        CHECK_OK(runs_create(opened, REPO, MAIN, "abcdef1", RUNS_NO_TIME,
                             NULL, &created));
        runs_created_free(created);
        runs_close(opened);
        opened = UNTOUCHED;
    }

    /* A grace period as long as the kill timeout leaves SIGKILL no time to
     * follow; the setters may come in either order, so open refuses it. */
    CHECK_OK(runs_options_set_kill_timeout_ms(options, 500));
    CHECK_STATUS(runs_open_with(path, options, &opened),
                 RUNS_STATUS_INVALID_INPUT);
    CHECK(last_error_mentions("kill_grace"));
    CHECK(opened == UNTOUCHED);
    CHECK_STATUS(runs_open("", &opened), RUNS_STATUS_INVALID_INPUT);
    CHECK(opened == UNTOUCHED);

    runs_options_free(options);
}

static void files_that_are_not_ledgers_are_refused(void)
{
    char path[300];
    FILE *file;
    runs_handle *opened = UNTOUCHED;

    snprintf(path, sizeof path, "%s/notes.txt", dir);
    file = fopen(path, "w");
    if (file != NULL) {
        fputs("these are not the runs you are looking for\n", file);
        fclose(file);
    }

    CHECK_STATUS(runs_open(path, &opened), RUNS_STATUS_NOT_A_DATABASE);
    CHECK(opened == UNTOUCHED);
    CHECK(last_error_mentions("not a runledger database"));
}

static void closing_and_freeing_null_are_no_ops(void)
{
    runs_close(NULL);
    runs_options_free(NULL);
    runs_run_free(NULL);
    runs_run_list_free(NULL);
    runs_created_free(NULL);
    runs_history_list_free(NULL);
    runs_labels_free(NULL);
    runs_reconciled_free(NULL);
    /* Nothing to compare: these must return without touching memory,
     * which the valgrind and AddressSanitizer runs of this program check. */
}

int main(void)
{
    runs_handle *ledger;
    runs_created *seed = NULL;
    size_t before;

    make_temp_dir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/ledger.db", dir);
    ledger = open_record_only(db);
    CHECK_OK(runs_create(ledger, REPO, MAIN, "0000001", RUNS_NO_TIME, NULL,
                         &seed));
    if (seed == NULL) {
        return report("c bad input");
    }
    before = count_runs(ledger);

    null_in_each_pointer_argument_is_refused(ledger, seed->run.id);
    invalid_utf8_in_each_string_is_refused(ledger, seed->run.id);
    unknown_states_and_malformed_values_are_invalid_input(ledger,
                                                           seed->run.id);
    bad_options_are_refused_and_keep_the_old_value();
    files_that_are_not_ledgers_are_refused();
    closing_and_freeing_null_are_no_ops();

    /* None of the refused calls wrote anything. */
    {
        runs_run *still = NULL;
        CHECK(count_runs(ledger) == before);
        CHECK_OK(runs_get(ledger, seed->run.id, &still));
        CHECK(still != NULL && still->state == RUNS_STATE_PENDING &&
              still->container_id == NULL);
        runs_run_free(still);
    }

    runs_created_free(seed);
    runs_close(ledger);
    remove_temp_dir(dir);
    return report("c bad input");
}
