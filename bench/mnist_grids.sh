#!/usr/bin/env bash
# mnist_grids.sh: the class grid of a conditional MNIST run, one ROW per
# class 0..9 (8 samples each, EMA weights), which `kallima sample` cannot lay
# out itself (its grid puts the classes in turn along each row). It draws each
# class with `kallima sample RUN -class K -n 8 -separate DIR` and stitches the
# rows with PIL, 2-pixel black gaps, grayscale.
#
#   bash bench/mnist_grids.sh RUN OUT.png
# Environment: KALLIMA (binary, default: go run ./cmd/kallima), PYTHON (with
# PIL, default /usr/bin/python3), SEED (default 1).
set -euo pipefail
run=$1 out=$2
seed=${SEED:-1}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z "${KALLIMA:-}" ]]; then
	KALLIMA=$tmp/kallima
	(cd "$(dirname "$0")/.." && go build -o "$KALLIMA" ./cmd/kallima)
fi
for k in 0 1 2 3 4 5 6 7 8 9; do
	GOMAXPROCS=${GOMAXPROCS:-1} "$KALLIMA" sample "$run" -class "$k" -n 8 -seed "$seed" -separate "$tmp/class-$k" >/dev/null
done
"$python" - "$tmp" "$out" <<'PY'
import glob, os, sys
from PIL import Image
tmp, out = sys.argv[1], sys.argv[2]
pad, side, cols = 2, 28, 8
grid = Image.new("L", (pad + cols * (side + pad), pad + 10 * (side + pad)), 0)
for k in range(10):
    files = sorted(glob.glob(os.path.join(tmp, f"class-{k}", "*.png")))[:cols]
    if len(files) != cols:
        sys.exit(f"class {k}: {len(files)} images, want {cols}")
    for j, f in enumerate(files):
        img = Image.open(f).convert("L")
        if img.size != (side, side):
            sys.exit(f"{f}: size {img.size}, want {side}x{side}")
        grid.paste(img, (pad + j * (side + pad), pad + k * (side + pad)))
grid.save(out, optimize=True)
print(f"{out}: 10 rows (classes 0..9) x {cols}")
PY
