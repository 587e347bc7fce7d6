package avb

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
)

func TestExp(t *testing.T) {
	sets := strings.Fields(os.Getenv("AVBSETS"))
	if len(sets) == 0 {
		t.Skip()
	}
	set := mnistSet(t)
	c, err := parse(t, sets...)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 10, Images: set})
	if err != nil {
		t.Fatal(err)
	}
	defer fm.Close()
	st := time.Now()
	acc := map[string]float64{}
	tr := &gan.Trainer{Players: fm.Players, Phases: fm.Phases, Steps: c.Train.Steps, Callbacks: []gan.Callback{func(tr *gan.Trainer, l gan.Logs) error {
		for k, v := range l {
			acc[k] += v / 50
		}
		if tr.Step%50 == 0 {
			t.Logf("step %d %.1fs loss %.1f recon %.1f t %.2f kl_r %.2f adv %.3f (q %.3f p %.3f)", tr.Step, time.Since(st).Seconds(), acc["avb/loss"], acc["avb/recon"], acc["avb/t"], acc["avb/kl_r"], acc["adv/loss"], acc["adv/q"], acc["adv/p"])
			acc = map[string]float64{}
		}
		return nil
	}}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
