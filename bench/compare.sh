#!/bin/sh
# compare.sh: build kallima, then time the dcgan and wgangp workloads with
# PyTorch (bench/pytorch_bench.py) and with `kallima bench` in the same run on
# this machine, and print a table with the ratio Kallima/PyTorch.
#
# Usage: bench/compare.sh [-iters N] [-warmup N] [workload ...]
#   (defaults: 30 timed iterations after 5 warm-up, both workloads)
# Environment: PYTHON (default /usr/bin/python3), THREADS (default 2): torch
# threads and GOMAXPROCS.
set -eu

cd "$(dirname "$0")/.."
iters=30 warmup=5
while [ $# -gt 0 ]; do
	case "$1" in
	-iters) iters=$2; shift 2 ;;
	-warmup) warmup=$2; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	-*) echo "compare.sh: unknown flag $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- dcgan wgangp
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-2}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kallima" ./cmd/kallima

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(go version | cut -d' ' -f3); $("$python" -c 'import torch; print("torch", torch.__version__)')" >&2
for w in "$@"; do
	echo "== $w: PyTorch" >&2
	OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$python" bench/pytorch_bench.py \
		--json --iters "$iters" --warmup "$warmup" --threads "$threads" "$w" >>"$tmp/torch.jsonl"
	echo "== $w: Kallima" >&2
	env -u OPENBLAS_NUM_THREADS GOMAXPROCS="$threads" "$tmp/kallima" bench -json -q \
		-iters "$iters" -warmup "$warmup" "$w" >>"$tmp/kallima.jsonl"
done

"$python" - "$tmp/torch.jsonl" "$tmp/kallima.jsonl" <<'PY'
import json, sys
torch = {r["workload"]: r for r in map(json.loads, open(sys.argv[1]))}
kal = {r["workload"]: r for r in map(json.loads, open(sys.argv[2]))}
print(f"{'workload':<9} {'PyTorch it/s':>13} {'Kallima it/s':>13} {'ratio':>6} {'PyTorch GFLOP/s':>16} {'Kallima GFLOP/s':>16}")
for w, k in kal.items():
    t = torch[w]
    print(f"{w:<9} {t['iters_per_second']:>13.2f} {k['iters_per_second']:>13.2f} "
          f"{k['iters_per_second'] / t['iters_per_second']:>6.2f} {t['gflops']:>16.1f} {k['gflops']:>16.1f}")
PY
