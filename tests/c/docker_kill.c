/*
 * The supersede-kill flow against the real Docker engine, through the
 * default runtime: a runner's container is killed when a newer push
 * supersedes its run, a container attached too late is killed by the
 * attach, and a container labelled with another run is never killed.
 * Without a reachable engine this test fails; it does not skip.
 */
#include "check.h"

#define REPO "work/docker.git"
#define MAIN "refs/heads/main"
#define IMAGE "runledger-test:busybox"
#define SUITE_LABEL "runledger.test-suite=capi-c"

static char started[3][80];
static int started_count;

/* Runs `command` and returns its first output line in `line`. */
static int first_line(const char *command, char *line, size_t size)
{
    FILE *pipe = popen(command, "r");
    if (pipe == NULL) {
        return -1;
    }
    if (fgets(line, (int)size, pipe) == NULL) {
        line[0] = '\0';
    }
    line[strcspn(line, "\n")] = '\0';
    return pclose(pipe) == 0 && line[0] != '\0' ? 0 : -1;
}

/*
 * Starts a test container carrying the labels of run `labels_of` (as a
 * runner would) and writes its id to `id`.
 */
static int start_container(runs_handle *ledger, const char *labels_of,
                           char *id, size_t size)
{
    runs_labels *labels = NULL;
    char command[2048];
    size_t used;

    if (runs_container_labels(ledger, labels_of, &labels) !=
        RUNS_STATUS_OK) {
        return -1;
    }
    used = (size_t)snprintf(command, sizeof command,
                            "docker run -d --network none --label '%s'",
                            SUITE_LABEL);
    for (size_t i = 0; i < labels->len && used < sizeof command; i++) {
        used += (size_t)snprintf(command + used, sizeof command - used,
                                 " --label '%s=%s'", labels->labels[i].key,
                                 labels->labels[i].value);
    }
    runs_labels_free(labels);
    if (used >= sizeof command) {
        return -1;
    }
    snprintf(command + used, sizeof command - used, " %s", IMAGE);
    if (first_line(command, id, size) != 0) {
        return -1;
    }
    snprintf(started[started_count++], sizeof started[0], "%s", id);
    return 0;
}

/* 1 when running, 0 when stopped, -1 when the engine cannot tell. */
static int is_running(const char *id)
{
    char command[200];
    char answer[32];
    snprintf(command, sizeof command,
             "docker inspect -f '{{.State.Running}}' %s", id);
    if (first_line(command, answer, sizeof answer) != 0) {
        return -1;
    }
    return strcmp(answer, "true") == 0;
}

static void remove_started_containers(void)
{
    for (int i = 0; i < started_count; i++) {
        char command[200];
        snprintf(command, sizeof command, "docker rm -f %s >/dev/null",
                 started[i]);
        if (system(command) != 0) {
            fprintf(stderr, "could not remove container %s\n", started[i]);
        }
    }
}

int main(void)
{
    char dir[256];
    char db[300];
    char first_box[80] = "";
    char late_box[80] = "";
    char foreign_box[80] = "";
    runs_handle *ledger = NULL;
    runs_created *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    runs_run *run_a = NULL, *run_b = NULL, *run_c = NULL;
    runs_run *attached = NULL, *refused = NULL, *unused = NULL;

    make_temp_dir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/ledger.db", dir);
    /* The default options: Docker where DOCKER_HOST points, else the
       default socket. */
    CHECK_OK(runs_open(db, &ledger));
    if (ledger == NULL) {
        return report("c docker");
    }

    /* A runner's container dies when a newer push supersedes its run. */
    CHECK_OK(runs_create(ledger, REPO, MAIN, "d0c0001", RUNS_NO_TIME, NULL,
                         &a));
    CHECK_OK(runs_claim(ledger, REPO, NULL, &run_a));
    CHECK(run_a != NULL && start_container(ledger, run_a->id, first_box,
                                           sizeof first_box) == 0);
    CHECK_OK(runs_attach_container(ledger, run_a->id, first_box, &attached));
    CHECK(is_running(first_box) == 1);
    CHECK_OK(runs_create(ledger, REPO, MAIN, "d0c0002", RUNS_NO_TIME, NULL,
                         &b));
    CHECK(b->superseded_len == 1);
    if (b->superseded_len == 1) {
        CHECK_STR(b->superseded[0].container_id, first_box);
        CHECK(b->superseded[0].kill_outcome == RUNS_KILL_OUTCOME_DONE);
    }
    CHECK(is_running(first_box) == 0);

    /* A container attached after its run was superseded is killed too. */
    CHECK_OK(runs_claim(ledger, REPO, NULL, &run_b));
    CHECK(run_b != NULL && start_container(ledger, run_b->id, late_box,
                                           sizeof late_box) == 0);
    CHECK_OK(runs_create(ledger, REPO, MAIN, "d0c0003", RUNS_NO_TIME, NULL,
                         &c));
    CHECK(is_running(late_box) == 1);
    CHECK_STATUS(runs_attach_container(ledger, run_b->id, late_box, &unused),
                 RUNS_STATUS_SUPERSEDED);
    CHECK(unused == NULL);
    CHECK(is_running(late_box) == 0);

    /* A container labelled with another run is left alone. */
    CHECK_OK(runs_claim(ledger, REPO, NULL, &run_c));
    CHECK(run_c != NULL && start_container(ledger, run_a->id, foreign_box,
                                           sizeof foreign_box) == 0);
    CHECK_OK(runs_attach_container(ledger, run_c->id, foreign_box,
                                   &refused));
    CHECK_OK(runs_create(ledger, REPO, MAIN, "d0c0004", RUNS_NO_TIME, NULL,
                         &d));
    CHECK(d->superseded_len == 1);
    if (d->superseded_len == 1) {
        CHECK(d->superseded[0].kill_outcome == RUNS_KILL_OUTCOME_REFUSED);
        CHECK_STR(d->superseded[0].labelled_run_id, run_a->id);
    }
    CHECK(is_running(foreign_box) == 1);

    remove_started_containers();
    runs_run_free(attached);
    runs_run_free(refused);
    runs_run_free(run_a);
    runs_run_free(run_b);
    runs_run_free(run_c);
    runs_created_free(a);
    runs_created_free(b);
    runs_created_free(c);
    runs_created_free(d);
    runs_close(ledger);
    remove_temp_dir(dir);
    return report("c docker");
}
