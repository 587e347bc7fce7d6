package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/kallima-gan/kallima/internal/blas"
)

// CPU names the processor for benchmark reports, as /proc/cpuinfo gives
// it: "AMD EPYC (family 26, model 2)". The same model name covers CPUs of
// several generations on these machines, whose OpenBLAS kernels differ, so
// the family and model go with it. On a system without /proc/cpuinfo it is
// the architecture alone.
func CPU() string { return cpuFrom("/proc/cpuinfo") }

func cpuFrom(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	fields := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if len(fields) > 0 { // the first processor's block has ended
				break
			}
			continue
		}
		k = strings.TrimSpace(k)
		if _, seen := fields[k]; !seen {
			fields[k] = strings.TrimSpace(v)
		}
	}
	name := fields["model name"]
	if name == "" {
		return runtime.GOARCH
	}
	if fam, model := fields["cpu family"], fields["model"]; fam != "" && model != "" {
		return fmt.Sprintf("%s (family %s, model %s)", name, fam, model)
	}
	return name
}

// Machine is the one-line description of where a benchmark ran: the CPU,
// the cores Go uses, the BLAS and, when it applies, OPENBLAS_CORETYPE.
func Machine(blasImpl string) string {
	s := fmt.Sprintf("%s, GOMAXPROCS %d, blas %s", CPU(), runtime.GOMAXPROCS(0), blasImpl)
	if ct := blas.CoreType(); ct != "" {
		s += ", OPENBLAS_CORETYPE=" + ct
	}
	return s
}
