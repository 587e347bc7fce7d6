package bench

// Nominal FLOP counts. Effective GFLOP/s is a fixed, analytic count of the
// work an iteration needs divided by its time, the same for Kallima and
// PyTorch (bench/pytorch_bench.py has the same formula), so the two are
// comparable whatever each actually computes. Only convolutions and linear
// layers count, at 2 FLOPs per multiply-add; elementwise work, batch norm
// and the optimizers are free.

// layerFLOPs are the forward FLOPs of the workloads' layers at batch 64.
type layerFLOPs struct {
	gLinear, gConvT1, gConvT2 int64 // G: 100->6272, 128x7x7->64x14x14, 64x14x14->1x28x28
	dConv1, dConv2, dLinear   int64 // D: 1x28x28->64x14x14, 64x14x14->128x7x7, 6272->1
}

func workloadLayers() layerFLOPs {
	const n = Batch
	return layerFLOPs{
		gLinear: 2 * n * NZ * 6272,
		gConvT1: 2 * n * 128 * 7 * 7 * 64 * 4 * 4,
		gConvT2: 2 * n * 64 * 14 * 14 * 1 * 4 * 4,
		dConv1:  2 * n * 1 * 4 * 4 * 64 * 14 * 14,
		dConv2:  2 * n * 64 * 4 * 4 * 128 * 7 * 7,
		dLinear: 2 * n * 6272 * 1,
	}
}

// IterationFLOPs returns the nominal FLOPs of one iteration of the named
// workload, and false for an unknown name.
//
// dcgan: G's forward once (the D update uses its output detached, the G
// update reuses it); D's forward on the real and the fake batch, each with
// its weight gradients and the input gradients of all but D's first layer;
// the G update's D forward and input gradients (all of D) and G's weight
// gradients and input gradients (all but its first layer). D's weight
// gradients are not needed in the G update. About 9.44 GFLOP.
//
// wgangp adds D's forward on the interpolates x_hat, its input gradient
// through all of D, and the backward of that gradient with respect to D's
// weights: a weight and an input gradient for each layer of the gradient
// graph, bar the constant seed of the last. About 12.83 GFLOP.
func IterationFLOPs(name string) (int64, bool) {
	f := workloadLayers()
	sg := f.gLinear + f.gConvT1 + f.gConvT2
	sd := f.dConv1 + f.dConv2 + f.dLinear
	gUpdate := 2*sd + 2*sg - f.gLinear
	switch name {
	case "dcgan":
		return sg + 2*(3*sd-f.dConv1) + gUpdate, true
	case "wgangp":
		dUpdate := 3*sd + sd + 2*(2*sd-f.dConv1) + (2*sd - f.dLinear)
		return sg + dUpdate + gUpdate, true
	}
	return 0, false
}
