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

// TestCheckerAccepts has the ONNX project's own checker (Debian's
// python3-onnx, onnx.checker.check_model with full_check, which also runs
// shape inference) validate each exported generator. It runs without
// -short only, and skips when python3-onnx is not installed
// (apt-get install -y python3-onnx); bench/onnx_check.sh also runs the
// models in onnxruntime.
func TestCheckerAccepts(t *testing.T) {
	if testing.Short() {
		t.Skip("python3-onnx checker: not in -short")
	}
	if err := exec.Command(python, "-c", "import onnx").Run(); err != nil {
		t.Skipf("%s has no onnx module (apt-get install -y python3-onnx): %v", python, err)
	}
	dir := t.TempDir()
	var paths []string
	for _, tc := range cases {
		g, _ := build(t, tc.sets, tc.d)
		b, err := onnx.Generator(g, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, tc.name+".onnx")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	script := `import sys, onnx
for p in sys.argv[1:]:
    m = onnx.load(p)
    onnx.checker.check_model(m, full_check=True)
    print(p, m.ir_version, m.opset_import[0].version, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param)
`
	out, err := exec.Command(python, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("checker printed %d lines for %d models:\n%s", len(lines), len(paths), out)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " 8 17 N") {
			t.Errorf("checker line %q: want IR 8, opset 17, batch N", l)
		}
	}
}
