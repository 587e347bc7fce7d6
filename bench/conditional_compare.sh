#!/usr/bin/env bash
# conditional_compare.sh: regenerates the numbers and images of the section
# "ACGAN against the projection cGAN" of docs/RESULTS-conditional.md.
# Trains acgan-mnist and cgan-mnist for the same number of steps with the
# same seeds (their shared settings are the presets': batch 64, Adam 2e-4,
# beta1 0.5, EMA 0.999, the ns loss), scores each run's EMA generator class by
# class (kallima eval -per-class: 100 samples per digit) and by FID on 10000
# class-balanced samples, scores real MNIST the same way, and draws one
# sample grid per model (one row per class) into docs/img/. acgan-nofake is
# ACGAN with d_fake_class: false (D's class loss on real images only).
# Trainings run one at a time under the shared lock /tmp/kallima-cpu.lock;
# each evaluation takes under 10 s and runs without it.
#
#   bash bench/conditional_compare.sh                 all stages: train eval grids summary
#   bash bench/conditional_compare.sh eval summary    some of them
#   ONLY="acgan cgan" bash bench/conditional_compare.sh   only those models
#
# Environment: STEPS (default 3000), SEEDS (default "1 2 3"), RUNS (default
# /tmp/acgan-cmp), KALLIMA (binary; built from this tree if unset).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-3000}
SEEDS=${SEEDS:-1 2 3}
RUNS=${RUNS:-/tmp/acgan-cmp}
LOCK=/tmp/kallima-cpu.lock
if [[ -z "${KALLIMA:-}" ]]; then
	KALLIMA=/tmp/kallima-conditional-compare
	go build -o "$KALLIMA" ./cmd/kallima
fi
# name  preset  overrides
MODELS=(
	"acgan        acgan-mnist"
	"cgan         cgan-mnist"
	"acgan-nofake acgan-mnist -set model.d_fake_class=false"
)
wanted() { [[ -z "${ONLY:-}" || " $ONLY " == *" $1 "* ]]; }
STAGES=("$@")
[[ ${#STAGES[@]} -eq 0 ]] && STAGES=(train eval grids summary)
has() { local s; for s in "${STAGES[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }
mkdir -p "$RUNS" docs/img

if has train; then
	for seed in $SEEDS; do
		for spec in "${MODELS[@]}"; do
			read -r m preset over <<<"$spec"
			wanted "$m" || continue
			run="$RUNS/$m-s$seed"
			[[ -f $run/checkpoints/step-$(printf %06d "$STEPS").safetensors ]] && continue
			rm -rf "$run"
			echo "== train $m seed $seed ($STEPS steps)"
			# shellcheck disable=SC2086
			flock "$LOCK" "$KALLIMA" train -preset "$preset" -set "seed=$seed" -set "train.steps=$STEPS" $over -out "$run" \
				>"$run.train.log" 2>&1
			grep "wall time" "$run.train.log"
		done
	done
fi

if has eval; then
	"$KALLIMA" eval -per-class -real mnist/train -json >"$RUNS/real.perclass.json"
	"$KALLIMA" eval -real mnist/train -metrics fid -n 10000 -json >"$RUNS/real.fid.json"
	for seed in $SEEDS; do
		for spec in "${MODELS[@]}"; do
			read -r m _ <<<"$spec"
			wanted "$m" || continue
			run="$RUNS/$m-s$seed"
			[[ -d $run ]] || continue
			echo "== eval $m seed $seed"
			"$KALLIMA" eval -per-class "$run" -json >"$run.perclass.json"
			"$KALLIMA" eval "$run" -metrics fid -n 10000 -json >"$run.fid.json"
		done
	done
fi

if has grids; then
	first=${SEEDS%% *}
	for spec in "${MODELS[@]}"; do
		read -r m _ <<<"$spec"
		wanted "$m" && [[ -d $RUNS/$m-s$first ]] || continue
		"$KALLIMA" sample "$RUNS/$m-s$first" -per-class 10 -out "docs/img/conditional-$m-mnist.png"
	done
fi

if has summary; then
	RUNS="$RUNS" SEEDS="$SEEDS" python3 - <<'PY'
import json, os, statistics as st
runs, seeds = os.environ["RUNS"], os.environ["SEEDS"].split()
def load(prefix):
    pc = json.load(open(f"{prefix}.perclass.json"))
    fid = json.load(open(f"{prefix}.fid.json"))
    return {"agreement": pc["agreement"], "precision": pc["precision"], "recall": pc["recall"],
            "density": pc["density"], "coverage": pc["coverage"], "fid1k": pc["fid"],
            "fid10k": fid["values"][0]["value"], "min_recall": min(c["prdc"]["recall"] for c in pc["classes"]),
            "per_class": [(c["class"], c["agreement"], c["prdc"]["precision"], c["prdc"]["recall"]) for c in pc["classes"]]}
keys = ["agreement", "precision", "recall", "min_recall", "density", "coverage", "fid1k", "fid10k"]
print("| model | " + " | ".join(keys) + " |")
print("|---" * (len(keys) + 1) + "|")
def fmt(vals, k):
    if len(vals) == 1:
        return f"{vals[0]:.3f}" if k not in ("fid1k", "fid10k") else f"{vals[0]:.1f}"
    m, s = st.mean(vals), st.stdev(vals)
    return f"{m:.3f} ± {s:.3f}" if k not in ("fid1k", "fid10k") else f"{m:.1f} ± {s:.1f}"
real = load(f"{runs}/real")
print("| real MNIST train | " + " | ".join(fmt([real[k]], k) for k in keys) + " |")
rows = {}
for m in ["acgan", "cgan", "acgan-nofake"]:
    have = [s for s in seeds if os.path.exists(f"{runs}/{m}-s{s}.fid.json")]
    if not have:
        continue
    rs = [load(f"{runs}/{m}-s{s}") for s in have]
    rows[m] = list(zip(have, rs))
    print(f"| {m} ({len(rs)} seeds) | " + " | ".join(fmt([r[k] for r in rs], k) for k in keys) + " |")
print()
print("per seed:")
for m, sr in rows.items():
    for s, r in sr:
        print(f"  {m} seed {s}: " + ", ".join(f"{k} {r[k]:.3f}" for k in keys))
print()
print("per class (mean over seeds): class, agreement, precision, recall")
for m, sr in rows.items():
    rs = [r for _, r in sr]
    print(f"  {m}:")
    for k in range(10):
        a = st.mean(r["per_class"][k][1] for r in rs)
        p = st.mean(r["per_class"][k][2] for r in rs)
        rc = st.mean(r["per_class"][k][3] for r in rs)
        print(f"    {k}  {a:.3f}  {p:.3f}  {rc:.3f}")
PY
fi
