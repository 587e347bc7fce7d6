package family_test

import (
	"strings"
	"testing"
)

// TestGSteps: train.g_steps reaches a DCGAN's generator phase (G updated
// that many times per step, D once), and the families that build their
// own phases refuse it.
func TestGSteps(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want int
	}{{nil, 1}, {[]string{"train.g_steps=2"}, 2}} {
		m, err := buildDCGAN(nil, c.sets...)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Phases) != 2 || m.Phases[0].Player.Name != "d" || m.Phases[1].Player.Name != "g" {
			t.Fatalf("%v: phases %+v, want D's then G's", c.sets, m.Phases)
		}
		if got := max(m.Phases[1].Repeat, 1); got != c.want || max(m.Phases[0].Repeat, 1) != 1 {
			t.Errorf("%v: G updates %d and D updates %d a step, want %d and 1", c.sets, got, max(m.Phases[0].Repeat, 1), c.want)
		}
	}
	for _, kind := range []string{"vae", "avb"} {
		if _, err := buildDCGAN(nil, "model.kind="+kind, "train.g_steps=2"); err == nil || !strings.Contains(err.Error(), "g_steps") {
			t.Errorf("model.kind %s with g_steps 2: error %v, want one naming g_steps", kind, err)
		}
	}
}
