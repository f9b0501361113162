# The two commands of the README, plus the benchmarks.
.PHONY: demo test bench

# Builds everything and runs the demo on a SQLite file.
demo:
	bash .ci/demo.sh

# Runs every test: Rust, C, Go, Python and the CLI.
test:
	bash .ci/test.sh

# Runs the benchmarks and prints ratios measured side by side.
bench:
	bash .ci/bench.sh
