#!/usr/bin/env bash
# The Stacked MNIST table of docs/RESULTS-encoders.md: for each row (a
# preset and its -set flags), SEEDS runs trained one after another, each
# scored with kallima eval -modes (26000 samples: modes of 1000 and KL to
# the uniform, in nats). Run it under the shared CPU lock:
#
#   flock /tmp/kallima-cpu.lock bash bench/stacked_results.sh
#
# ROWS picks rows by name (default all); the -g1 rows are the
# VEEGAN-setting rows as the preset was before session 28, one G update a
# step; -w128 has G and D twice as wide, -dx2 two more strided
# convolutions in D, -gx2 G starting at 2x2 (PacGAN's G depth),
# -channel-bn G's projection normalised per channel. A packed D sees
# train.batch/m groups, while PacGAN's code draws m minibatches and D sees
# batch-size groups: pacdcgan2 and the -b512 rows multiply the batch by m
# to match it (dcgan-b128 is pacdcgan2's batch unpacked); the older pack
# rows kept the preset's batch. STEPS, when set, overrides each preset's
# steps. Runs go to RUNS (default /tmp/stacked-runs), one JSON line per
# run to RUNS/results.jsonl, with the row, the seed and the wall time.
# The deep row (dcgan-stacked-deep, about 3 hours a seed) is also scored
# averaged over its last 3 checkpoints (kallima average), as
# "score_average".
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-/tmp/stacked-runs}
SEEDS=${SEEDS:-1 2 3}
KALLIMA=${KALLIMA:-$RUNS/kallima}
mkdir -p "$RUNS"
go build -o "$KALLIMA" ./cmd/kallima
lscpu | grep 'Model name'
declare -A ROW=(
	[dcgan]="dcgan-stacked"
	[pacdcgan2]="dcgan-stacked -set model.pack=2 -set train.batch=128"
	[dcgan-b128]="dcgan-stacked -set train.batch=128"
	[dcgan-g1]="dcgan-stacked -set train.g_steps=1"
	[pacdcgan2-g1]="dcgan-stacked -set train.g_steps=1 -set model.pack=2"
	[small-d4]="dcgan-stacked-small"
	[small-d4-pack4]="dcgan-stacked-small -set model.pack=4"
	[small-d4-pack4-b512]="dcgan-stacked-small -set model.pack=4 -set train.batch=512"
	[small-d8]="dcgan-stacked-small -set model.d_width=8"
	[small-d8-pack4]="dcgan-stacked-small -set model.d_width=8 -set model.pack=4"
	[small-d8-pack4-b512]="dcgan-stacked-small -set model.d_width=8 -set model.pack=4 -set train.batch=512"
	[mixgan]="mixgan-stacked"
	[dcgan-w128]="dcgan-stacked -set model.width=128"
	[pacdcgan2-w128]="dcgan-stacked -set model.width=128 -set model.pack=2 -set train.batch=128"
	[dcgan-dx2]="dcgan-stacked -set model.d_extra_layers=2"
	[dcgan-gx2]="dcgan-stacked -set model.g_extra_layers=2"
	[dcgan-gx2-dx2]="dcgan-stacked -set model.g_extra_layers=2 -set model.d_extra_layers=2"
	[dcgan-channel-bn]="dcgan-stacked -set model.project_bn=channel"
	[deep]="dcgan-stacked-deep"
)
declare -A AVERAGED=([deep]=1)
for row in ${ROWS:-dcgan pacdcgan2 dcgan-g1 pacdcgan2-g1 small-d4 small-d4-pack4 small-d8 small-d8-pack4 mixgan dcgan-w128 dcgan-dx2 dcgan-b128 pacdcgan2-w128 small-d4-pack4-b512 small-d8-pack4-b512 dcgan-gx2 dcgan-gx2-dx2 dcgan-channel-bn deep}; do
	read -r -a spec <<<"${ROW[$row]}"
	for seed in $SEEDS; do
		dir="$RUNS/$row-s$seed"
		rm -rf "$dir"
		extra=(-set "seed=$seed")
		[ -n "${STEPS:-}" ] && extra+=(-set "train.steps=$STEPS")
		echo "== $row seed $seed: kallima train -preset ${spec[*]} ${extra[*]}"
		start=$(date +%s)
		"$KALLIMA" train -preset "${spec[@]}" "${extra[@]}" -out "$dir" 2>&1 | tail -2
		secs=$(($(date +%s) - start))
		score=$("$KALLIMA" eval -modes "$dir" -json 2>/dev/null)
		avg=""
		if [ -n "${AVERAGED[$row]:-}" ]; then
			file=$("$KALLIMA" average "$dir" -last 3 2>/dev/null | sed -n 's/^wrote \(.*\.safetensors\): .*/\1/p')
			avg=",\"score_average\":$("$KALLIMA" eval -modes "$file" -json 2>/dev/null)"
		fi
		echo "{\"row\":\"$row\",\"seed\":$seed,\"train_seconds\":$secs,\"score\":$score$avg}" | tee -a "$RUNS/results.jsonl"
	done
done
