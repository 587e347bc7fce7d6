package autograd

import (
	"testing"
)

// sweepSeeds is the number of seeds TestGradCheckSeeds runs every case on.
const sweepSeeds = 100

// TestGradCheckSeeds runs every case on sweepSeeds seeds (inputs, the
// random projection, the second-order direction and the noise jitter all
// change with the seed): the harness's tolerance is derived, not tuned, so
// no seed may fail. Long: skipped with -short.
func TestGradCheckSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every gradcheck case on 100 seeds")
	}
	names, seeds := caseIDs()
	for i, c := range gradCases {
		t.Run(names[i], func(t *testing.T) {
			for seed := uint64(1); seed <= sweepSeeds; seed++ {
				xs := inputsFor(c, seeds[i]<<10+seed)
				if err := GradCheck(c.f, xs, CheckOptions{SecondOrder: !c.first, Seed: seed}); err != nil {
					t.Errorf("seed %d: %v", seed, err)
				}
			}
		})
	}
}

// TestGradCheckRandomBroadcastShapesSeeds is TestGradCheckRandomBroadcastShapes
// on sweepSeeds seeds. Long: skipped with -short.
func TestGradCheckRandomBroadcastShapesSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the random-shape checks on 100 seeds")
	}
	for seed := uint64(1); seed <= sweepSeeds; seed++ {
		if err := checkRandomBroadcastShapes(seed); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
}
