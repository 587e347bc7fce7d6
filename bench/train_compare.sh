#!/bin/sh
# train_compare.sh: time training loops, not just bench steps. In one run on
# this machine it measures
#   1. `kallima bench dcgan` (the bench step: one D and one G update),
#   2. `kallima train -preset dcgan-mnist` with checkpoints, samples and
#      evaluation off (the whole pipeline: loader, game, EMA, metrics.jsonl,
#      TensorBoard, progress), its median step from metrics.jsonl's wall times,
#   3. bench/pytorch_train.py, the same training loop in PyTorch,
# and prints steps per second and the ratios train/bench and Kallima/PyTorch.
#
# Usage: bench/train_compare.sh [-steps N] [-warmup N] [-reuse]   (defaults 60 and 10)
# -reuse trains both loops with G's update on D's fake batch
# (train.reuse_fake, --reuse-fake), the work of the bench step.
# Environment: PYTHON (default /usr/bin/python3), THREADS (default 2).
# Needs MNIST (kallima data fetch mnist) and python3-torch.
set -eu

cd "$(dirname "$0")/.."
steps=60 warmup=10 kreuse=false preuse=
while [ $# -gt 0 ]; do
	case "$1" in
	-steps) steps=$2; shift 2 ;;
	-warmup) warmup=$2; shift 2 ;;
	-reuse) kreuse=true preuse=--reuse-fake; shift ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "train_compare.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kallima" ./cmd/kallima
"$tmp/kallima" data fetch mnist >&2

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(go version | cut -d' ' -f3)" >&2
bench=$(env -u OPENBLAS_NUM_THREADS GOMAXPROCS="$threads" "$tmp/kallima" bench -json -q -iters "$steps" -warmup "$warmup" dcgan)
env -u OPENBLAS_NUM_THREADS GOMAXPROCS="$threads" "$tmp/kallima" train -preset dcgan-mnist -out "$tmp/run" \
	-set train.steps=$((steps + warmup)) -set train.checkpoint_every=0 -set train.sample_every=0 \
	-set train.log_every=1000000 -set train.reuse_fake=$kreuse >/dev/null 2>&1
torch=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$python" bench/pytorch_train.py --json --steps "$steps" --warmup "$warmup" --threads "$threads" $preuse)

"$python" - "$bench" "$tmp/run/metrics.jsonl" "$torch" "$warmup" <<'PY'
import json, statistics, sys
bench, metrics, torch, warmup = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
wall = [json.loads(l)["wall_time"] for l in open(metrics)]
steps = [b - a for a, b in zip(wall, wall[1:])][warmup:]
train = 1 / statistics.median(steps)
b = bench["iters_per_second"]
t = torch["it_per_s"]
print(f"| kallima bench dcgan | {b:.2f} it/s |")
print(f"| kallima train -preset dcgan-mnist | {train:.2f} it/s | train/bench {train / b:.3f} |")
print(f"| PyTorch training loop (bench/pytorch_train.py) | {t:.2f} it/s | Kallima/PyTorch {train / t:.3f} |")
PY
