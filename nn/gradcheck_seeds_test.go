package nn

import (
	"fmt"
	"testing"
)

// TestLayersGradCheckSeeds runs every layer case (the layers', the
// minibatch layers' and the virtual batch norm's) on 100 seeds: inputs,
// parameters, projection, direction and noise jitter all change with the
// seed, and none may fail. Long: skipped with -short.
func TestLayersGradCheckSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every layer gradcheck case on 100 seeds")
	}
	for seed := uint64(1); seed <= 100; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runLayerCases(t, layerCases(seed), seed)
			mb, eps := minibatchCases(seed)
			runLayerCasesEps(t, mb, seed, eps)
			runLayerCases(t, virtualBatchNormCases(seed), seed)
		})
	}
}
