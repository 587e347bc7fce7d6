#!/usr/bin/env bash
# mnist_results.sh: regenerates the numbers and images of docs/RESULTS-mnist.md.
# Trains five MNIST GANs for the same number of generator steps, scores them
# (and real MNIST, for calibration) with Kallima's MNIST feature network, draws
# their sample grids into docs/img/ and times Kallima against PyTorch.
# Everything runs on ONE core (GOMAXPROCS=1, one torch thread), one heavy
# process at a time, under nice -n 5.
#
#   bash bench/mnist_results.sh                  all stages: train eval grids bench
#   bash bench/mnist_results.sh train eval       some of them
#   bash bench/mnist_results.sh summary          only print the numbers of earlier runs
#   ONLY="lsgan cgan" bash bench/mnist_results.sh train eval   only those runs
#
# Environment: STEPS (generator steps, default 1600), RUNS (default
# /tmp/mnist-runs), KALLIMA (binary; built from this tree if unset),
# PYTHON (a python with torch, default /usr/bin/python3),
# EVAL_N (images per score, default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-1600}
RUNS=${RUNS:-/tmp/mnist-runs}
EVAL_N=${EVAL_N:-10000}
PYTHON=${PYTHON:-/usr/bin/python3}
if [[ -z "${KALLIMA:-}" ]]; then
	KALLIMA=/tmp/kallima-mnist-results
	go build -o "$KALLIMA" ./cmd/kallima
fi
export GOMAXPROCS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
NICE="nice -n 5"
mkdir -p "$RUNS" docs/img
STAGES=("$@")
[[ ${#STAGES[@]} -eq 0 ]] && STAGES=(train eval grids bench)

# name  preset  overrides
MODELS=(
	"dcgan   dcgan-mnist"
	"lsgan   dcgan-mnist  -set loss.name=lsgan"
	"hinge-sn dcgan-mnist -set loss.name=hinge -set model.d_specnorm=true -set model.d_no_batchnorm=true"
	"cgan    cgan-mnist"
	"wgangp  wgangp-mnist"
)
COMMON=(-set "train.steps=$STEPS" -set train.eval_every=0 -set train.sample_every=400 -set train.checkpoint_every=400 -set train.log_every=100)

has() { local s; for s in "${STAGES[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }
wanted() { [[ -z "${ONLY:-}" || " $ONLY " == *" $1 "* ]]; }

if has train; then
	for m in "${MODELS[@]}"; do
		read -r name preset over <<<"$m"
		wanted "$name" || continue
		rm -rf "${RUNS:?}/$name"
		echo "== train $name ($preset $over, $STEPS G steps)"
		# shellcheck disable=SC2086
		/usr/bin/time -f "$name wall %e s" $NICE "$KALLIMA" train -preset "$preset" -out "$RUNS/$name" "${COMMON[@]}" $over \
			2>&1 | tee "$RUNS/$name.train.log" | grep -E "^step .*00/|wall|diverg|NaN" || true
	done
fi

if has eval; then
	for m in "${MODELS[@]}"; do
		read -r name _ <<<"$m"
		wanted "$name" || continue
		echo "== eval $name (n=$EVAL_N)"
		/usr/bin/time -f "eval $name wall %e s" $NICE "$KALLIMA" eval "$RUNS/$name" -metrics fid,kid,is,pr -n "$EVAL_N" -json \
			>"$RUNS/$name.eval.jsonl"
	done
	# The real-data reference row: MNIST's first EVAL_N training images scored
	# against the first EVAL_N test images, as if a generator had made them.
	echo "== eval real data (mnist/train[:$EVAL_N] vs mnist/test[:$EVAL_N])"
	/usr/bin/time -f "eval real wall %e s" $NICE "$KALLIMA" eval -real mnist/train -metrics fid,kid,is,pr -n "$EVAL_N" -json \
		>"$RUNS/real.eval.jsonl"
fi

if has grids; then
	for name in dcgan wgangp lsgan hinge-sn; do
		$NICE "$KALLIMA" sample "$RUNS/$name" -n 64 -seed 1 -out "docs/img/mnist-$name.png"
	done
	# One row per class 0..9, 8 columns, the same 8 noise vectors in every row.
	$NICE "$KALLIMA" sample "$RUNS/cgan" -per-class 8 -seed 1 -out docs/img/mnist-cgan.png
	ls -l docs/img/mnist-*.png
fi

if has bench; then
	# Same sitting, alternating, one thread each. An iteration of both
	# workloads is ONE D update on a real and a fake batch plus ONE G update
	# (so the bench's wgangp has n_critic 1; see the doc).
	: >"$RUNS/bench-kallima.jsonl"
	: >"$RUNS/bench-pytorch.jsonl"
	for w in dcgan wgangp; do
		echo "== $w: Kallima (GOMAXPROCS=1)"
		$NICE "$KALLIMA" bench "$w" -iters 30 -warmup 5 -q -json | tee -a "$RUNS/bench-kallima.jsonl"
		echo "== $w: PyTorch (--threads 1, OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)"
		OPENBLAS_NUM_THREADS=1 $NICE "$PYTHON" bench/pytorch_bench.py --json --iters 30 --warmup 5 --threads 1 "$w" \
			| tee -a "$RUNS/bench-pytorch.jsonl"
	done
fi

# The numbers of docs/RESULTS-mnist.md, from whatever stages have run.
"$PYTHON" - "$RUNS" "$STEPS" <<'PY'
import json, os, re, sys
runs, steps = sys.argv[1], int(sys.argv[2])
names = ["dcgan", "wgangp", "lsgan", "hinge-sn", "cgan"]
print(f"\n== training ({steps} generator steps each, 1 core)")
for n in names:
    p = os.path.join(runs, n + ".train.log")
    m = re.search(r"wall ([0-9.]+) s", open(p).read()) if os.path.exists(p) else None
    if m:
        w = float(m.group(1))
        print(f"{n:<9} {w:8.1f} s  {steps / w:5.2f} G steps/s")
print("\n== scores (fid/kid/pr on fc1 features, is on class probabilities, of Kallima's MNIST net)")
print(f"{'run':<9} {'FID':>7} {'KID':>16} {'IS':>12} {'prec':>6} {'rec':>6} {'dens':>6} {'cov':>6}  n_real n_fake reference")
for n in names + ["real"]:
    p = os.path.join(runs, n + ".eval.jsonl")
    if not os.path.exists(p):
        continue
    rs = {}
    for line in open(p):
        r = json.loads(line)
        rs[r["metric"]] = r
    def fmt(metric, name, w, d):
        for v in (rs.get(metric) or {}).get("values", []):
            if v["name"] == name:
                s = f"{v['value']:.{d}f}"
                if v.get("runs"):
                    s += f"±{v['std']:.{d}f}"
                return f"{s:>{w}}"
        return " " * w
    first = rs.get("FID") or next(iter(rs.values()))
    print(f"{n:<9} {fmt('FID', 'fid', 7, 2)} {fmt('KID', 'kid', 16, 4)} {fmt('IS', 'is', 12, 2)}"
          f" {fmt('PRDC', 'precision', 6, 3)} {fmt('PRDC', 'recall', 6, 3)} {fmt('PRDC', 'density', 6, 3)}"
          f" {fmt('PRDC', 'coverage', 6, 3)}  {first.get('n_real')} {first.get('n_fake')} {first.get('reference')}")
kp, tp = os.path.join(runs, "bench-kallima.jsonl"), os.path.join(runs, "bench-pytorch.jsonl")
if os.path.exists(kp) and os.path.exists(tp):
    k = {r["workload"]: r for r in map(json.loads, open(kp))}
    t = {r["workload"]: r for r in map(json.loads, open(tp))}
    print("\n== bench, 1 thread each; an epoch = 60000/64 = 937.5 iterations")
    print(f"{'workload':<9} {'PyTorch it/s':>12} {'Kallima it/s':>12} {'PyTorch s/epoch':>15} {'Kallima s/epoch':>15} {'time ratio K/P':>14}")
    for w in k:
        if w in t:
            pk, pt = k[w]["iters_per_second"], t[w]["iters_per_second"]
            print(f"{w:<9} {pt:12.2f} {pk:12.2f} {937.5 / pt:15.1f} {937.5 / pk:15.1f} {pt / pk:14.2f}")
PY
