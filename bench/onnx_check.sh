#!/bin/sh
# onnx_check.sh: checks `kallima export -format onnx` outside Go. For each run
# folder given (default: eight short runs it trains itself: ring8 (mlp),
# dcgan-mnist and cgan-mnist, the translators pix2pix-edges,
# cyclegan-thick in both directions and stargan-width, and bigan-mnist and
# aae-cluster-mnist, generator and encoder, whose data come from
# MNIST: kallima data fetch mnist), it exports the generator to ONNX with 16 fixed
# noise vectors (and labels, or InfoGAN's codes) and Kallima's samples of them
# (-dump; for a translator 16 images and Kallima's translations), checks the model with Debian's python3-onnx (onnx.checker.check_model, full_check) and
# runs it with onnxruntime-node (CPU) from npm, which must reproduce Kallima's
# samples within TOL (max abs diff); when PYTHON has torch, so must the PyTorch
# module examples/torch/load_generator.py builds from the run's checkpoint (for
# the kinds it builds: mlp, dcgan, cgan, acgan), or load_translator.py (pix2pix,
# cyclegan, stargan).
# Not part of the README's test command.
#
# RUN:FROM exports a two-domain translator from domain FROM; RUN:encoder
# exports an encoder run's encoder (vae, ae, aae, bigan, ali: images x.npy
# to codes z.npy) instead of its generator.
#
# Usage: bench/onnx_check.sh [RUN[:FROM|:encoder] ...]
# Environment: PYTHON (default /usr/bin/python3; needs python3-onnx:
# apt-get install -y python3-onnx), ORT_DIR (a folder whose node_modules holds
# onnxruntime-node; default: installed into a temporary folder with
# ONNXRUNTIME_NODE_INSTALL=skip, which skips only the optional CUDA download:
# the CPU binary ships in the package), TOL (default 1e-5), KEEP (a folder to
# keep the models and dumps in).
set -eu

cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}
tol=${TOL:-1e-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${KEEP:-$tmp/out}
mkdir -p "$out"

"$python" -c 'import onnx' 2>/dev/null || { echo "onnx_check.sh: $python has no onnx module (apt-get install -y python3-onnx)" >&2; exit 2; }
command -v node >/dev/null || { echo "onnx_check.sh: node is not installed" >&2; exit 2; }
if [ -z "${ORT_DIR:-}" ]; then
	ORT_DIR=$tmp/ort
	mkdir -p "$ORT_DIR"
	(cd "$ORT_DIR" && npm init -y >/dev/null && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
ort=$ORT_DIR/node_modules/onnxruntime-node
ls "$ort"/bin/napi-v*/linux/x64/libonnxruntime.so* >/dev/null 2>&1 || { echo "onnx_check.sh: no CPU binary under $ort/bin" >&2; exit 2; }

go build -o "$tmp/kallima" ./cmd/kallima
if [ $# -eq 0 ]; then
	for p in ring8 dcgan-mnist cgan-mnist pix2pix-edges cyclegan-thick stargan-width bigan-mnist aae-cluster-mnist; do
		"$tmp/kallima" train -preset "$p" -set train.steps=20 -set train.checkpoint_every=20 -out "$tmp/run-$p" >/dev/null
		set -- "$@" "$tmp/run-$p"
	done
	set -- "$@" "$tmp/run-cyclegan-thick:B" # its second direction
	set -- "$@" "$tmp/run-bigan-mnist:encoder" "$tmp/run-aae-cluster-mnist:encoder" # the encoders
fi

status=0
for spec in "$@"; do
	run=${spec%%:*}
	name=$(basename "$run")
	from= encoder=
	case $spec in
	*:encoder) encoder=-encoder name=$name-encoder ;;
	*:*) from=${spec##*:} name=$name-from-$from ;;
	esac
	"$tmp/kallima" export "$run" -format onnx -out "$out/$name.onnx" -dump "$out/$name" -n 16 -seed 1 ${from:+-from "$from"} $encoder
	"$python" -c 'import onnx, sys
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print(sys.argv[1] + ": onnx " + onnx.__version__ + " checker (full_check) accepts IR %d opset %d" % (m.ir_version, m.opset_import[0].version))' "$out/$name.onnx"
	ORT_MODULE=$ort node bench/onnx_check.mjs "$out/$name.onnx" "$out/$name" "$tol" || status=1
	kind=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["kind"])' "$out/$name/meta.json")
	case $encoder$kind in
	-encoder*) loader= ;;
	mlp | dcgan | cgan | acgan) loader=examples/torch/load_generator.py ;;
	pix2pix | cyclegan | stargan) loader=examples/torch/load_translator.py ;;
	*) loader= ;;
	esac
	if [ -n "$loader" ] && "$python" -c 'import torch, yaml' 2>/dev/null; then
		"$python" "$loader" "$run" "$out/$name" --tol "$tol" || status=1
	fi
done
lscpu | grep 'Model name' || true
exit $status
