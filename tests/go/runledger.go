// Package runledger is a small Go binding of the runledger C library,
// through cgo and the standard library only. It is what the Go test suite
// drives; a forge would grow it to the calls it needs.
package runledger

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/debug -lrunledger -Wl,-rpath,${SRCDIR}/../../target/debug
#include <stdlib.h>
#include <runledger.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"
)

// State is where a run stands.
type State uint32

// The states of the transition table.
const (
	Pending    State = C.RUNS_STATE_PENDING
	Active     State = C.RUNS_STATE_ACTIVE
	Complete   State = C.RUNS_STATE_COMPLETE
	Failed     State = C.RUNS_STATE_FAILED
	Superseded State = C.RUNS_STATE_SUPERSEDED
	Canceled   State = C.RUNS_STATE_CANCELED
)

func (s State) String() string {
	name := C.runs_state_name(C.uint32_t(s))
	if name == nil {
		return fmt.Sprintf("State(%d)", uint32(s))
	}
	return C.GoString(name)
}

// Status is a runs_status code.
type Status uint32

// The status codes the tests branch on.
const (
	StatusInvalidInput = Status(C.RUNS_STATUS_INVALID_INPUT)
	StatusConflict     = Status(C.RUNS_STATUS_CONFLICT)
	StatusNotFound     = Status(C.RUNS_STATUS_NOT_FOUND)
	StatusInvalidUTF8  = Status(C.RUNS_STATUS_INVALID_UTF8)
)

// Error is a failed call: its status code and the library's message.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	return e.Message
}

// call runs one C call and, when it fails, reads the message of the last
// error. The message is kept per OS thread, so the goroutine stays on its
// thread from the call until the message is read.
func call(do func() C.runs_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := do()
	if status == C.RUNS_STATUS_OK {
		return nil
	}
	return &Error{Status: Status(status), Message: C.GoString(C.runs_last_error_message())}
}

// cString copies s for C; free it with C.free. Go strings may hold any
// bytes; the library refuses those that are not UTF-8.
func cString(s string) *C.char {
	return C.CString(s)
}

// Ledger is an open ledger file. It may be used by many goroutines at once.
type Ledger struct {
	handle *C.runs_handle
}

// Open opens the ledger at path. With recordOnly, kills are recorded but not
// carried out, so no container engine is needed.
func Open(path string, recordOnly bool) (*Ledger, error) {
	cpath := cString(path)
	defer C.free(unsafe.Pointer(cpath))
	var options *C.runs_options
	if err := call(func() C.runs_status { return C.runs_options_new(&options) }); err != nil {
		return nil, err
	}
	defer C.runs_options_free(options)
	if recordOnly {
		if err := call(func() C.runs_status {
			return C.runs_options_set_runtime_record_only(options)
		}); err != nil {
			return nil, err
		}
	}
	var handle *C.runs_handle
	if err := call(func() C.runs_status {
		return C.runs_open_with(cpath, options, &handle)
	}); err != nil {
		return nil, err
	}
	return &Ledger{handle: handle}, nil
}

// Close closes the ledger. No call may be running or follow.
func (l *Ledger) Close() {
	C.runs_close(l.handle)
	l.handle = nil
}

// Run is one CI run.
type Run struct {
	ID           string
	Repo         string
	Ref          string
	Sha          string
	GroupKey     string
	State        State
	PushedAt     time.Time
	StartedAt    *time.Time
	FinishedAt   *time.Time
	SupersededBy string
	ContainerID  string
}

func goTime(ms C.int64_t) *time.Time {
	if ms == C.RUNS_NO_TIME {
		return nil
	}
	t := time.UnixMilli(int64(ms)).UTC()
	return &t
}

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// runFrom copies a C run into Go memory; the C record may then be freed.
func runFrom(r *C.runs_run) Run {
	return Run{
		ID:           C.GoString(r.id),
		Repo:         C.GoString(r.repo),
		Ref:          C.GoString(r.ref_name),
		Sha:          C.GoString(r.sha),
		GroupKey:     C.GoString(r.group_key),
		State:        State(r.state),
		PushedAt:     *goTime(r.pushed_at_ms),
		StartedAt:    goTime(r.started_at_ms),
		FinishedAt:   goTime(r.finished_at_ms),
		SupersededBy: goStringOrEmpty(r.superseded_by),
		ContainerID:  goStringOrEmpty(r.container_id),
	}
}

// SupersededRun is a run a push replaced.
type SupersededRun struct {
	RunID         string
	PreviousState State
	ContainerID   string
	KillOutcome   uint32
}

// Created is what Create did.
type Created struct {
	Run        Run
	Duplicate  bool
	Superseded []SupersededRun
}

// Create records a push of sha to ref in repo, happening now, superseding
// the live runs of its group.
func (l *Ledger) Create(repo, ref, sha string) (*Created, error) {
	crepo, cref, csha := cString(repo), cString(ref), cString(sha)
	defer C.free(unsafe.Pointer(crepo))
	defer C.free(unsafe.Pointer(cref))
	defer C.free(unsafe.Pointer(csha))
	var out *C.runs_created
	if err := call(func() C.runs_status {
		return C.runs_create(l.handle, crepo, cref, csha, C.RUNS_NO_TIME, nil, &out)
	}); err != nil {
		return nil, err
	}
	defer C.runs_created_free(out)

	created := &Created{Run: runFrom(&out.run), Duplicate: bool(out.duplicate)}
	if out.superseded_len > 0 {
		olds := unsafe.Slice(out.superseded, int(out.superseded_len))
		for _, old := range olds {
			created.Superseded = append(created.Superseded, SupersededRun{
				RunID:         C.GoString(old.run_id),
				PreviousState: State(old.previous_state),
				ContainerID:   goStringOrEmpty(old.container_id),
				KillOutcome:   uint32(old.kill_outcome),
			})
		}
	}
	return created, nil
}

// runCall runs a C call that writes a run, and copies the run.
func runCall(do func(out **C.runs_run) C.runs_status) (*Run, error) {
	var out *C.runs_run
	if err := call(func() C.runs_status { return do(&out) }); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	defer C.runs_run_free(out)
	run := runFrom(out)
	return &run, nil
}

// Claim moves the oldest pending run of repo (any repo when empty) to
// active and returns it, or nil when none waits.
func (l *Ledger) Claim(repo string) (*Run, error) {
	var crepo *C.char
	if repo != "" {
		crepo = cString(repo)
		defer C.free(unsafe.Pointer(crepo))
	}
	return runCall(func(out **C.runs_run) C.runs_status {
		return C.runs_claim(l.handle, crepo, nil, out)
	})
}

// Transition moves a run from expected to to, compare-and-set.
func (l *Ledger) Transition(id string, expected, to State) (*Run, error) {
	cid := cString(id)
	defer C.free(unsafe.Pointer(cid))
	return runCall(func(out **C.runs_run) C.runs_status {
		return C.runs_transition(l.handle, cid, C.uint32_t(expected), C.uint32_t(to), out)
	})
}

// AttachContainer records the container of an active run.
func (l *Ledger) AttachContainer(id, containerID string) (*Run, error) {
	cid, ccontainer := cString(id), cString(containerID)
	defer C.free(unsafe.Pointer(cid))
	defer C.free(unsafe.Pointer(ccontainer))
	return runCall(func(out **C.runs_run) C.runs_status {
		return C.runs_attach_container(l.handle, cid, ccontainer, out)
	})
}

// Get returns one run by id.
func (l *Ledger) Get(id string) (*Run, error) {
	cid := cString(id)
	defer C.free(unsafe.Pointer(cid))
	return runCall(func(out **C.runs_run) C.runs_status {
		return C.runs_get(l.handle, cid, out)
	})
}

// KillOutcomeRecorded is the kill outcome of the record-only runtime.
const KillOutcomeRecorded = uint32(C.RUNS_KILL_OUTCOME_RECORDED)
