#!/usr/bin/env bash
# The SN-GAN / SAGAN measurement of docs/RESULTS-conditional.md ("SN-GAN and
# SAGAN"): dcgan-mnist (the baseline), sngan-mnist and sagan-mnist trained
# one after another for the same number of G steps (STEPS, default 800),
# then scored with `kallima eval` (FID, KID, IS, precision/recall/density/
# coverage, n = EVAL_N, default 10000, against MNIST's test split). Run it
# under the shared CPU lock:
#
#   flock /tmp/kallima-cpu.lock bash bench/resnet_results.sh
#
# Runs go to RUNS (default /tmp/resnet-runs); each train/eval wall time is
# printed by /usr/bin/time. Both cores are used (the default threads).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-800}
EVAL_N=${EVAL_N:-10000}
RUNS=${RUNS:-/tmp/resnet-runs}
KALLIMA=${KALLIMA:-$RUNS/kallima}
mkdir -p "$RUNS"
go build -o "$KALLIMA" ./cmd/kallima
lscpu | grep 'Model name'
COMMON=(-set "train.steps=$STEPS" -set train.eval_every=0 -set "train.sample_every=$((STEPS / 4))" -set "train.checkpoint_every=$((STEPS / 2))" -set train.log_every=50)
for p in ${ONLY:-dcgan-mnist sngan-mnist sagan-mnist}; do
	rm -rf "${RUNS:?}/$p"
	echo "== train $p ($STEPS G steps)"
	/usr/bin/time -f "$p train wall %e s" "$KALLIMA" train -preset "$p" -out "$RUNS/$p" "${COMMON[@]}" 2>&1 | tail -6
	echo "== eval $p (n=$EVAL_N)"
	/usr/bin/time -f "$p eval wall %e s" "$KALLIMA" eval "$RUNS/$p" -metrics fid,kid,is,pr -n "$EVAL_N" -json | tee "$RUNS/$p.eval.jsonl"
done
