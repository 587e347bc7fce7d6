#!/bin/sh
# ttq_compare.sh: time to quality of class-conditional MNIST GANs, Kallima
# against PyTorch, in one sitting on this machine (issue 11's protocol):
# a check every 30 s of training wall time (checking time excluded), 1000
# images (100 per class) judged by Kallima's MNIST feature network, the
# time of the first check at or above 95% class agreement.
#   1. Kallima: go run ./bench/ttq -preset PRESET (cgan-mnist unless -preset;
#      -set overrides pass through), stopping at the target;
#   2. PyTorch: bench/pytorch_cgan.py (one-hot label channels in D, BCE, Adam
#      2e-4, batch 64) for -budget seconds, its checks judged afterwards by
#      ttq -judge with the same network; once per -torch BATCH/LR (repeatable,
#      default 64/2e-4).
# Prints every side's checks, a table, and Kallima's time to 95% over each
# PyTorch run's.
#
# Usage: bench/ttq_compare.sh [-preset P] [-set k=v ...] [-budget S] [-seed N] [-torch 64/2e-4 ...]
# Environment: PYTHON (default /usr/bin/python3), THREADS (default 2).
# Needs MNIST (kallima data fetch mnist) and python3-torch.
set -eu

cd "$(dirname "$0")/.."
preset=cgan-mnist budget=480 seed=1 sets= torch=
while [ $# -gt 0 ]; do
	case "$1" in
	-preset) preset=$2; shift 2 ;;
	-set) sets="$sets -set $2"; shift 2 ;;
	-budget) budget=$2; shift 2 ;;
	-seed) seed=$2; shift 2 ;;
	-torch) torch="$torch $2"; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "ttq_compare.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ttq" ./bench/ttq
go run ./cmd/kallima data fetch mnist >&2

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(go version | cut -d' ' -f3)" >&2
# shellcheck disable=SC2086
env -u OPENBLAS_NUM_THREADS GOMAXPROCS="$threads" "$tmp/ttq" -preset "$preset" $sets -seed "$seed" -budget "${budget}s" >"$tmp/kallima.jsonl"
judged= k=0
for run in ${torch:-64/2e-4}; do
	k=$((k + 1))
	OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$python" bench/pytorch_cgan.py --out "$tmp/torch$k" --budget "$budget" \
		--threads "$threads" --seed "$seed" --batch "${run%/*}" --lr "${run#*/}"
	"$tmp/ttq" -judge "$tmp/torch$k" >"$tmp/torch$k.jsonl"
	judged="$judged $tmp/torch$k.jsonl"
done

# shellcheck disable=SC2086
"$python" - "$tmp/kallima.jsonl" $judged <<'PY'
import json, sys
def first(path):
    rows = [json.loads(l) for l in open(path)]
    hit = next((r for r in rows if r["agreement"] >= 0.95), None)
    return rows, hit
print("| model | check | training time | step | class agreement |")
print("|---|---|---|---|---|")
out = []
for p in sys.argv[1:]:
    rows, hit = first(p)
    for r in rows:
        print(f"| {r['impl']} | {r['check']} | {r['train_s']:.0f} s | {r['step']} | {r['agreement']:.3f} |")
    out.append((rows, hit))
print()
print("| model | first check >= 95% | step | it/s | final agreement |")
print("|---|---|---|---|---|")
for rows, hit in out:
    last = rows[-1]
    t = f"{hit['train_s']:.0f} s" if hit else f"not within {last['train_s']:.0f} s"
    s = hit["step"] if hit else "-"
    print(f"| {last['impl']} | {t} | {s} | {last['step'] / last['train_s']:.2f} | {last['agreement']:.3f} |")
k, kh = out[0]
for p, ph in out[1:]:
    if kh and ph:
        print(f"\nKallima / {p[-1]['impl']}, time to 95%: {kh['train_s'] / ph['train_s']:.2f}")
PY
