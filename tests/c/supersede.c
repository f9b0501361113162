/*
 * The supersede flow as a forge drives it from C: pushes to a branch, a
 * pull request, and a runner that learns its run was superseded through a
 * conflict. Record-only runtime: no container engine is involved.
 */
#include "check.h"

#define REPO "work/tools.git"
#define MAIN "refs/heads/main"
#define PULL "refs/pull/7/head"

static char dir[256];
static char db[300];

static void push_then_newer_push_supersedes_the_pending_run(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *first = NULL;
    runs_created *second = NULL;
    runs_run *old = NULL;

    CHECK_OK(runs_create(ledger, REPO, MAIN, "aaaaaaa", RUNS_NO_TIME, NULL,
                         &first));
    CHECK_OK(runs_create(ledger, REPO, MAIN, "bbbbbbb", RUNS_NO_TIME, NULL,
                         &second));

    CHECK(first->run.state == RUNS_STATE_PENDING);
    CHECK(!first->duplicate && first->superseded_len == 0);
    CHECK(second->run.state == RUNS_STATE_PENDING);
    CHECK(second->superseded_len == 1);
    CHECK_STR(second->superseded[0].run_id, first->run.id);
    CHECK(second->superseded[0].previous_state == RUNS_STATE_PENDING);
    CHECK(second->superseded[0].kill_outcome ==
          RUNS_KILL_OUTCOME_NO_CONTAINER);
    CHECK_STR(second->run.group_key, REPO ":" MAIN);

    CHECK_OK(runs_get(ledger, first->run.id, &old));
    CHECK(old->state == RUNS_STATE_SUPERSEDED);
    CHECK_STR(old->superseded_by, second->run.id);
    /* Superseded while pending: it never started. */
    CHECK(old->started_at_ms == RUNS_NO_TIME);
    CHECK(old->finished_at_ms != RUNS_NO_TIME);

    runs_run_free(old);
    runs_created_free(first);
    runs_created_free(second);
    runs_close(ledger);
}

static void runner_learns_of_a_supersede_through_a_conflict(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *push = NULL;
    runs_created *pull = NULL;
    runs_created *newer = NULL;
    runs_run *claimed = NULL;
    runs_run *attached = NULL;
    runs_run *moved = NULL;
    runs_run *next = NULL;
    runs_run *done = NULL;
    runs_history_list *history = NULL;

    CHECK_OK(runs_create(ledger, REPO, MAIN, "ccccccc", RUNS_NO_TIME, NULL,
                         &push));
    CHECK_OK(runs_claim(ledger, REPO, REPO ":" MAIN, &claimed));
    CHECK(claimed != NULL && strcmp(claimed->id, push->run.id) == 0);
    CHECK(claimed->state == RUNS_STATE_ACTIVE);
    CHECK(claimed->started_at_ms != RUNS_NO_TIME);
    CHECK(claimed->lease_expires_at_ms > claimed->started_at_ms);
    CHECK_OK(runs_attach_container(ledger, claimed->id, "c-runner-1",
                                   &attached));
    CHECK_STR(attached->container_id, "c-runner-1");

    /* A pull request is its own group: it leaves the active run alone. */
    CHECK_OK(runs_create(ledger, REPO, PULL, "ddddddd", RUNS_NO_TIME, NULL,
                         &pull));
    CHECK(pull->superseded_len == 0);
    CHECK_OK(runs_create(ledger, REPO, MAIN, "eeeeeee", RUNS_NO_TIME, NULL,
                         &newer));
    CHECK(newer->superseded_len == 1);
    CHECK_STR(newer->superseded[0].run_id, claimed->id);
    CHECK(newer->superseded[0].previous_state == RUNS_STATE_ACTIVE);
    CHECK_STR(newer->superseded[0].container_id, "c-runner-1");
    CHECK(newer->superseded[0].kill_outcome == RUNS_KILL_OUTCOME_RECORDED);
    CHECK(newer->superseded[0].kill_error == NULL);

    /* The runner reports success; the compare-and-set refuses it. */
    moved = claimed;
    CHECK_STATUS(runs_transition(ledger, claimed->id, RUNS_STATE_ACTIVE,
                                 RUNS_STATE_COMPLETE, &moved),
                 RUNS_STATUS_CONFLICT);
    CHECK(moved == claimed);
    CHECK(last_error_mentions("superseded"));
    CHECK_OK(runs_get(ledger, claimed->id, &done));
    CHECK(done->state == RUNS_STATE_SUPERSEDED);
    CHECK_STR(done->superseded_by, newer->run.id);
    CHECK(done->kill_state == RUNS_KILL_STATE_REQUESTED);
    CHECK(done->started_at_ms != RUNS_NO_TIME);

    /* The oldest pending run is claimed first: the pull request. */
    CHECK_OK(runs_claim(ledger, REPO, NULL, &next));
    CHECK(next != NULL && strcmp(next->id, pull->run.id) == 0);

    CHECK_OK(runs_history(ledger, claimed->id, &history));
    CHECK(history->len == 2);
    if (history->len == 2) {
        CHECK(history->entries[0].has_from);
        CHECK(history->entries[0].from == RUNS_STATE_PENDING);
        CHECK(history->entries[0].to == RUNS_STATE_ACTIVE);
        CHECK_STR(history->entries[0].reason, "claimed");
        CHECK(history->entries[0].superseded_by == NULL);
        CHECK(history->entries[1].from == RUNS_STATE_ACTIVE);
        CHECK(history->entries[1].to == RUNS_STATE_SUPERSEDED);
        CHECK_STR(history->entries[1].reason, "superseded");
        CHECK_STR(history->entries[1].superseded_by, newer->run.id);
        CHECK(history->entries[0].at_ms <= history->entries[1].at_ms);
    }

    runs_history_list_free(history);
    runs_run_free(done);
    runs_run_free(next);
    runs_run_free(attached);
    runs_run_free(claimed);
    runs_created_free(push);
    runs_created_free(pull);
    runs_created_free(newer);
    runs_close(ledger);
}

static void redelivered_push_is_a_duplicate_and_changes_nothing(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *first = NULL;
    runs_created *again = NULL;

    CHECK_OK(runs_create(ledger, "work/dup.git", MAIN, "1234567",
                         1700000000000, NULL, &first));
    CHECK_OK(runs_create(ledger, "work/dup.git", MAIN, "1234567",
                         1700000000000, NULL, &again));

    CHECK(again->duplicate);
    CHECK_STR(again->run.id, first->run.id);
    CHECK(again->superseded_len == 0);
    CHECK(first->run.pushed_at_ms == 1700000000000);

    runs_created_free(first);
    runs_created_free(again);
    runs_close(ledger);
}

static void push_older_than_a_live_run_is_born_superseded(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *newer = NULL;
    runs_created *late = NULL;
    runs_history_list *history = NULL;

    CHECK_OK(runs_create(ledger, "work/late.git", MAIN, "abcdef1",
                         1700000100000, NULL, &newer));
    CHECK_OK(runs_create(ledger, "work/late.git", MAIN, "abcdef0",
                         1700000000000, NULL, &late));

    CHECK(late->run.state == RUNS_STATE_SUPERSEDED);
    CHECK_STR(late->run.superseded_by, newer->run.id);
    CHECK(late->superseded_len == 0);
    CHECK_OK(runs_history(ledger, late->run.id, &history));
    /* Born superseded: its one history row leaves no state. */
    CHECK(history->len == 1 && !history->entries[0].has_from);
    CHECK_STR(history->entries[0].reason, "out_of_order");
    runs_history_list_free(history);

    runs_created_free(newer);
    runs_created_free(late);
    runs_close(ledger);
}

static void explicit_group_spans_refs(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *one = NULL;
    runs_created *two = NULL;

    CHECK_OK(runs_create(ledger, "work/grp.git", "refs/heads/a", "aaaaaa1",
                         RUNS_NO_TIME, "deploy-prod", &one));
    CHECK_OK(runs_create(ledger, "work/grp.git", "refs/heads/b", "aaaaaa2",
                         RUNS_NO_TIME, "deploy-prod", &two));

    CHECK_STR(two->run.group_key, "deploy-prod");
    CHECK(two->superseded_len == 1);
    if (two->superseded_len == 1) {
        CHECK_STR(two->superseded[0].run_id, one->run.id);
    }

    runs_created_free(one);
    runs_created_free(two);
    runs_close(ledger);
}

static void protected_ref_keeps_its_active_run(void)
{
    char path[300];
    runs_options *options = NULL;
    runs_handle *ledger = NULL;
    runs_created *first = NULL;
    runs_created *second = NULL;
    runs_run *claimed = NULL;
    runs_run *waiting = NULL;

    snprintf(path, sizeof path, "%s/protected.db", dir);
    CHECK_OK(runs_options_new(&options));
    CHECK_OK(runs_options_set_runtime_record_only(options));
    CHECK_OK(runs_options_add_protected_ref(options, "refs/heads/release/*"));
    CHECK_OK(runs_open_with(path, options, &ledger));
    runs_options_free(options);
    if (ledger == NULL) {
        return;
    }
    CHECK_OK(runs_create(ledger, REPO, "refs/heads/release/1", "aaaaaa1",
                         RUNS_NO_TIME, NULL, &first));
    CHECK(first->run.is_protected);
    CHECK_OK(runs_claim(ledger, NULL, NULL, &claimed));

    CHECK_OK(runs_create(ledger, REPO, "refs/heads/release/1", "aaaaaa2",
                         RUNS_NO_TIME, NULL, &second));

    CHECK(second->superseded_len == 0);
    CHECK(second->run.state == RUNS_STATE_PENDING);
    /* It waits until the protected active run ends. */
    CHECK_OK(runs_claim(ledger, NULL, NULL, &waiting));
    CHECK(waiting == NULL);

    runs_run_free(claimed);
    runs_created_free(first);
    runs_created_free(second);
    runs_close(ledger);
}

static void lifecycle_calls_follow_the_transition_table(void)
{
    runs_handle *ledger = open_record_only(db);
    runs_created *made = NULL;
    runs_run *claimed = NULL;
    runs_run *beat = NULL;
    runs_run *canceled = NULL;
    runs_run *changed = NULL;
    runs_run *unused = NULL;
    runs_labels *labels = NULL;
    runs_reconciled *reconciled = NULL;
    runs_run_list *page = NULL;
    runs_run_list *pruned = NULL;
    bool allowed = true;

    CHECK_OK(runs_create(ledger, "work/life.git", MAIN, "feedbee",
                         RUNS_NO_TIME, NULL, &made));
    CHECK_OK(runs_claim(ledger, "work/life.git", NULL, &claimed));
    CHECK_OK(runs_heartbeat(ledger, made->run.id, &beat));
    CHECK(beat->lease_expires_at_ms >= claimed->lease_expires_at_ms);
    CHECK_STATUS(runs_transition(ledger, made->run.id, RUNS_STATE_COMPLETE,
                                 RUNS_STATE_ACTIVE, &unused),
                 RUNS_STATUS_INVALID_TRANSITION);
    CHECK_OK(runs_container_labels(ledger, made->run.id, &labels));
    CHECK(labels->len >= 1);
    CHECK_STR(labels->labels[0].key, "runledger.ref");
    int found_run_id = 0;
    for (size_t i = 0; i < labels->len; i++) {
        if (strcmp(labels->labels[i].key, "runledger.run-id") == 0) {
            found_run_id = strcmp(labels->labels[i].value, made->run.id) == 0;
        }
    }
    CHECK(found_run_id);

    CHECK_OK(runs_cancel(ledger, made->run.id, &canceled));
    CHECK(canceled->state == RUNS_STATE_CANCELED);
    CHECK_STATUS(runs_cancel(ledger, made->run.id, &unused),
                 RUNS_STATUS_CONFLICT);
    CHECK_STATUS(runs_heartbeat(ledger, made->run.id, &unused),
                 RUNS_STATUS_CONFLICT);
    CHECK(unused == NULL);
    CHECK_OK(runs_wait_for_change(ledger, made->run.id, RUNS_STATE_CANCELED,
                                  50, &changed));
    CHECK(changed->state == RUNS_STATE_CANCELED);

    CHECK_OK(runs_reconcile(ledger, &reconciled));
    CHECK(reconciled->orphaned_len == 0 && reconciled->kills_len == 0);
    CHECK_OK(runs_list(ledger, "work/life.git", NULL, NULL,
                       RUNS_STATE_CANCELED, 10, NULL, &page));
    CHECK(page->len == 1 && page->next_cursor == NULL);
    CHECK_OK(runs_prune(ledger, 0, 0, &pruned));
    CHECK(pruned->len >= 1);
    CHECK_STATUS(runs_get(ledger, made->run.id, &unused),
                 RUNS_STATUS_NOT_FOUND);

    CHECK_OK(runs_may_become(RUNS_STATE_PENDING, RUNS_STATE_ACTIVE,
                             &allowed));
    CHECK(allowed);
    CHECK_OK(runs_may_become(RUNS_STATE_SUPERSEDED, RUNS_STATE_ACTIVE,
                             &allowed));
    CHECK(!allowed);

    runs_run_list_free(page);
    runs_run_list_free(pruned);
    runs_reconciled_free(reconciled);
    runs_labels_free(labels);
    runs_run_free(changed);
    runs_run_free(canceled);
    runs_run_free(beat);
    runs_run_free(claimed);
    runs_created_free(made);
    runs_close(ledger);
}

static void list_pages_through_every_run_newest_first(void)
{
    runs_handle *ledger = open_record_only(db);
    char sha[16];
    char cursor[64] = "";
    size_t seen = 0;

    for (int i = 0; i < 5; i++) {
        runs_created *made = NULL;
        snprintf(sha, sizeof sha, "%07x", 0xa00000 + i);
        char ref[64];
        snprintf(ref, sizeof ref, "refs/heads/b%d", i);
        CHECK_OK(runs_create(ledger, "work/page.git", ref, sha,
                             RUNS_NO_TIME, NULL, &made));
        runs_created_free(made);
    }

    for (;;) {
        runs_run_list *page = NULL;
        CHECK_OK(runs_list(ledger, "work/page.git", NULL, NULL,
                           RUNS_ANY_STATE, 2, cursor[0] ? cursor : NULL,
                           &page));
        if (page == NULL) {
            break;
        }
        seen += page->len;
        int more = page->next_cursor != NULL;
        if (more) {
            snprintf(cursor, sizeof cursor, "%s", page->next_cursor);
        }
        runs_run_list_free(page);
        if (!more) {
            break;
        }
    }

    CHECK(seen == 5);
    runs_close(ledger);
}

static void names_and_version_are_static_strings(void)
{
    runs_state state = RUNS_STATE_PENDING;

    CHECK_STR(runs_state_name(RUNS_STATE_SUPERSEDED), "superseded");
    CHECK(runs_state_name(RUNS_STATE_COUNT) == NULL);
    CHECK_OK(runs_state_from_name("canceled", &state));
    CHECK(state == RUNS_STATE_CANCELED);
    CHECK_STR(runs_status_name(RUNS_STATUS_CONFLICT), "conflict");
    CHECK(runs_status_name(12345) == NULL);
    CHECK(strlen(runs_version()) > 0);
}

int main(void)
{
    make_temp_dir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/ledger.db", dir);

    push_then_newer_push_supersedes_the_pending_run();
    runner_learns_of_a_supersede_through_a_conflict();
    redelivered_push_is_a_duplicate_and_changes_nothing();
    push_older_than_a_live_run_is_born_superseded();
    explicit_group_spans_refs();
    protected_ref_keeps_its_active_run();
    lifecycle_calls_follow_the_transition_table();
    list_pages_through_every_run_newest_first();
    names_and_version_are_static_strings();

    remove_temp_dir(dir);
    return report("c supersede");
}
