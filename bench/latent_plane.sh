#!/usr/bin/env bash
# The AE / VAE / GAN picture of docs/RESULTS-encoders.md ("One latent plane,
# three decoders"): an autoencoder, a VAE and a DCGAN, each with a 2-d code
# N(0, I), trained on MNIST, then the same 15x15 grid of codes (the prior's
# quantiles, kallima sample -plane) decoded by each, and 32 test digits
# reconstructed by the AE and the VAE. Run it under the shared CPU lock:
#
#   flock /tmp/kallima-cpu.lock bash bench/latent_plane.sh
#
# Runs go to RUNS (default /tmp/plane-runs); the pictures to OUT (default
# RUNS). The step counts keep the whole job near 12 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-/tmp/plane-runs}
OUT=${OUT:-$RUNS}
KALLIMA=${KALLIMA:-$RUNS/kallima}
mkdir -p "$RUNS" "$OUT"
go build -o "$KALLIMA" ./cmd/kallima
lscpu | grep 'Model name'
train() { # name preset steps sets...
	local name=$1 preset=$2 steps=$3
	shift 3
	rm -rf "${RUNS:?}/$name"
	/usr/bin/time -f "$name train wall %e s" "$KALLIMA" train -preset "$preset" -out "$RUNS/$name" \
		-set model.z_dim=2 -set "train.steps=$steps" -set train.eval_every=0 "$@" 2>&1 | tail -3
	"$KALLIMA" sample "$RUNS/$name" -plane 15 -out "$OUT/plane-$name.png"
}
train ae ae-mnist 30000 -set train.checkpoint_every=30000 -set train.sample_every=30000
train vae vae-mnist 30000 -set train.checkpoint_every=30000 -set train.sample_every=30000
train gan dcgan-mnist 2000 -set train.checkpoint_every=1000 -set train.sample_every=1000
for m in ae vae; do
	"$KALLIMA" eval -nll "$RUNS/$m" -n 32 -k 1 -recon "$OUT/recon-$m.png" 2>/dev/null || true
done
