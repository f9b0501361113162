package runledger_test

import (
	"fmt"
	"os"
	"path/filepath"

	runledger "runledger.example/cgo"
)

// A forge's push hook and a runner, in Go: the README's example.
func Example() {
	dir, _ := os.MkdirTemp("", "runledger-go-example")
	defer os.RemoveAll(dir)
	ledger, err := runledger.Open(filepath.Join(dir, "ledger.db"), true)
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	defer ledger.Close()

	first, _ := ledger.Create("work/tools.git", "refs/heads/main", "4f2a9c1")
	second, _ := ledger.Create("work/tools.git", "refs/heads/main", "9b3e7d2")
	fmt.Println("superseded the first push:", second.Superseded[0].RunID == first.Run.ID)

	run, _ := ledger.Claim("")
	done, err := ledger.Transition(run.ID, runledger.Active, runledger.Complete)
	if err != nil {
		fmt.Println("the run was superseded while it ran:", err)
		return
	}
	fmt.Println(done.Sha, done.State)
	// Output:
	// superseded the first push: true
	// 9b3e7d2 complete
}
