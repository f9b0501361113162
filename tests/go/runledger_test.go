package runledger

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openTemp(t *testing.T) *Ledger {
	t.Helper()
	ledger, err := Open(filepath.Join(t.TempDir(), "ledger.db"), true)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(ledger.Close)
	return ledger
}

func mustCreate(t *testing.T, ledger *Ledger, repo, ref, sha string) *Created {
	t.Helper()
	created, err := ledger.Create(repo, ref, sha)
	if err != nil {
		t.Fatalf("create %s %s %s: %v", repo, ref, sha, err)
	}
	return created
}

func statusOf(err error) Status {
	var failure *Error
	if errors.As(err, &failure) {
		return failure.Status
	}
	return 0
}

// A push, a pull request and a runner: the runner learns through a
// conflict that a newer push superseded its run, and the pull request's
// group is left alone.
func TestRunnerLearnsOfASupersedeThroughAConflict(t *testing.T) {
	ledger := openTemp(t)
	push := mustCreate(t, ledger, "work/tools.git", "refs/heads/main", "aaaaaaa")
	claimed, err := ledger.Claim("work/tools.git")
	if err != nil || claimed == nil || claimed.ID != push.Run.ID {
		t.Fatalf("claim: %v, %+v", err, claimed)
	}
	if _, err := ledger.AttachContainer(claimed.ID, "go-runner-1"); err != nil {
		t.Fatalf("attach: %v", err)
	}

	pull := mustCreate(t, ledger, "work/tools.git", "refs/pull/7/head", "bbbbbbb")
	newer := mustCreate(t, ledger, "work/tools.git", "refs/heads/main", "ccccccc")
	_, err = ledger.Transition(claimed.ID, Active, Complete)

	if len(pull.Superseded) != 0 {
		t.Errorf("the pull request superseded %+v", pull.Superseded)
	}
	if len(newer.Superseded) != 1 || newer.Superseded[0].RunID != claimed.ID {
		t.Fatalf("the newer push superseded %+v, want %s", newer.Superseded, claimed.ID)
	}
	old := newer.Superseded[0]
	if old.PreviousState != Active || old.ContainerID != "go-runner-1" ||
		old.KillOutcome != KillOutcomeRecorded {
		t.Errorf("superseded run report %+v", old)
	}
	if statusOf(err) != StatusConflict || !strings.Contains(err.Error(), "superseded") {
		t.Errorf("completing a superseded run gave %v", err)
	}
	after, err := ledger.Get(claimed.ID)
	if err != nil || after.State != Superseded || after.SupersededBy != newer.Run.ID {
		t.Errorf("superseded run reads back as %+v, %v", after, err)
	}
	if after.StartedAt == nil || after.FinishedAt == nil {
		t.Errorf("an active run superseded has both start and finish: %+v", after)
	}
}

// A redelivered webhook returns the live run and changes nothing.
func TestRedeliveredPushIsADuplicate(t *testing.T) {
	ledger := openTemp(t)
	first := mustCreate(t, ledger, "work/dup.git", "refs/heads/main", "1234567")

	again := mustCreate(t, ledger, "work/dup.git", "refs/heads/main", "1234567")

	if !again.Duplicate || again.Run.ID != first.Run.ID || len(again.Superseded) != 0 {
		t.Errorf("redelivery gave %+v", again)
	}
}

// Bad input from Go is refused with the boundary's status codes.
func TestBadInputIsRefusedWithAStatus(t *testing.T) {
	ledger := openTemp(t)

	_, notUTF8 := ledger.Create("work/\xff.git", "refs/heads/main", "abcdef1")
	_, badRef := ledger.Create("work/tools.git", "main", "abcdef1")
	_, badState := ledger.Transition("01900000-0000-7000-8000-000000000000", State(42), Active)
	_, missing := ledger.Get("01900000-0000-7000-8000-000000000000")

	if statusOf(notUTF8) != StatusInvalidUTF8 {
		t.Errorf("invalid UTF-8 gave %v", notUTF8)
	}
	if statusOf(badRef) != StatusInvalidInput || !strings.Contains(badRef.Error(), "ref_name") {
		t.Errorf("a short ref gave %v", badRef)
	}
	if statusOf(badState) != StatusInvalidInput || !strings.Contains(badState.Error(), "42") {
		t.Errorf("an unknown state gave %v", badState)
	}
	if statusOf(missing) != StatusNotFound {
		t.Errorf("a missing run gave %v", missing)
	}
}

// Goroutines share one ledger; pushes to one group leave one live run.
func TestGoroutinesShareOneLedger(t *testing.T) {
	ledger := openTemp(t)
	const workers, pushes = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*pushes)

	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < pushes; i++ {
				_, err := ledger.Create("work/shared.git", "refs/heads/main",
					fmt.Sprintf("%03x%04x", w+1, i))
				if err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		t.Errorf("concurrent create: %v", err)
	}
	claimed, err := ledger.Claim("work/shared.git")
	if err != nil || claimed == nil {
		t.Fatalf("claim after the pushes: %v", err)
	}
	next, err := ledger.Claim("work/shared.git")
	if err != nil || next != nil {
		t.Errorf("a second live run was left: %+v, %v", next, err)
	}
}
