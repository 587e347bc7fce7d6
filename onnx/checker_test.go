package onnx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/onnx"
)

// python is the interpreter with Debian's python3-onnx.
const python = "/usr/bin/python3"

// checkModels writes each model (by name) into a temporary folder and has
// the ONNX project's own checker (Debian's python3-onnx,
// onnx.checker.check_model with full_check, which also runs shape
// inference) validate it; it returns, per model in order, the IR version,
// the opset, the first input's batch dimension and the first output's
// other dimensions, as "8 17 N [1, 28, 28]". It skips the test in -short
// and when python3-onnx is not installed (apt-get install -y
// python3-onnx); bench/onnx_check.sh also runs the models in onnxruntime.
func checkModels(t *testing.T, names []string, models [][]byte) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("python3-onnx checker: not in -short")
	}
	if err := exec.Command(python, "-c", "import onnx").Run(); err != nil {
		t.Skipf("%s has no onnx module (apt-get install -y python3-onnx): %v", python, err)
	}
	dir := t.TempDir()
	var paths []string
	for i, b := range models {
		p := filepath.Join(dir, names[i]+".onnx")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	script := `import sys, onnx
for p in sys.argv[1:]:
    m = onnx.load(p)
    onnx.checker.check_model(m, full_check=True)
    out = m.graph.output[0].type.tensor_type.shape.dim
    print(m.ir_version, m.opset_import[0].version, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param, [d.dim_value for d in out[1:]])
`
	out, err := exec.Command(python, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("checker printed %d lines for %d models:\n%s", len(lines), len(paths), out)
	}
	return lines
}

// TestCheckerAccepts has python3-onnx's checker validate each exported
// generator (checkModels).
func TestCheckerAccepts(t *testing.T) {
	var names []string
	var models [][]byte
	for _, tc := range cases {
		g, _ := build(t, tc.sets, tc.d)
		b, err := onnx.Generator(g, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		names, models = append(names, tc.name), append(models, b)
	}
	for i, l := range checkModels(t, names, models) {
		if !strings.HasPrefix(l, "8 17 N ") {
			t.Errorf("%s: checker line %q: want IR 8, opset 17, batch N", names[i], l)
		}
	}
}
