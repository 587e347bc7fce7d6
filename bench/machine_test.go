package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/internal/blas"
)

// TestCPU reads the first processor's block of a cpuinfo file, and falls
// back to the architecture without one.
func TestCPU(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n\n" +
		"processor\t: 1\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: Other\n"
	for _, c := range []struct{ text, want string }{
		{two, "AMD EPYC (family 26, model 2)"},
		{"model name\t: Intel(R) Xeon(R) Processor\n", "Intel(R) Xeon(R) Processor"},
		{"processor\t: 0\nFeatures\t: fp asimd\n", runtime.GOARCH},
	} {
		if got := cpuFrom(write("cpuinfo", c.text)); got != c.want {
			t.Errorf("cpuinfo %q: %q, want %q", c.text, got, c.want)
		}
	}
	if got := cpuFrom(filepath.Join(dir, "missing")); got != runtime.GOARCH {
		t.Errorf("no cpuinfo: %q, want %q", got, runtime.GOARCH)
	}
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	// Named only where OpenBLAS reads it (the cgo build).
	if m := Machine(blas.Impl); !strings.Contains(m, "blas "+blas.Impl) || strings.HasSuffix(m, "OPENBLAS_CORETYPE=Haswell") != (blas.Impl == "openblas") {
		t.Errorf("Machine: %q", m)
	}
	t.Setenv("OPENBLAS_CORETYPE", "")
	if m := Machine("go"); strings.Contains(m, "CORETYPE") {
		t.Errorf("Machine without the variable: %q", m)
	}
}
