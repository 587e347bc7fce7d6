package nn

// BatchNorms returns m's batch norm layers (conditional ones' included),
// each once, in the order m lists its buffers.
func BatchNorms(m Module) []*BatchNorm {
	var r []*BatchNorm
	seen := map[*BatchNorm]bool{}
	for _, b := range m.Buffers("") {
		if b.norm != nil && !seen[b.norm] {
			seen[b.norm] = true
			r = append(r, b.norm)
		}
	}
	return r
}

// EstimateStatistics replaces the running statistics of m's batch norm
// layers by their population values: it calls forward(i) for i from 0 to
// batches-1, forward passing a batch of data through m (or part of it),
// and sets each layer's running mean and variance to the plain average of
// the batch means and unbiased batch variances it saw. This is the BiGAN
// authors' "deploy" pass (1000 batches before every evaluation) and
// PyTorch's torch.optim.swa_utils.update_bn: a running average with
// momentum 0.1 remembers only the last dozen batches, and weights put
// into a module from elsewhere (an average of checkpoints) come with no
// statistics of their own.
//
// While forward runs, the batch norm layers normalise by each batch's own
// statistics, as in training, and every other layer stays in the mode it
// was in (dropout and spectral norm's power iteration are not started by
// this); afterwards every layer is back in its mode. Layers that no batch
// reached keep their statistics. It returns the number of layers
// re-estimated, or forward's first error, in which case every layer keeps
// its statistics.
func EstimateStatistics(m Module, batches int, forward func(i int) error) (int, error) {
	norms := BatchNorms(m)
	modes := make([]bool, len(norms))
	for i, b := range norms {
		c := b.RunningMean.Len()
		modes[i] = b.training
		b.est = &bnEstimate{mean: make([]float64, c), variance: make([]float64, c)}
		b.training = true
	}
	defer func() {
		for i, b := range norms {
			b.est, b.training = nil, modes[i]
		}
	}()
	for i := range batches {
		if err := forward(i); err != nil {
			return 0, err
		}
	}
	done := 0
	for _, b := range norms {
		e := b.est
		if e.n == 0 {
			continue
		}
		rm, rv := b.RunningMean.Data(), b.RunningVar.Data()
		for i := range rm {
			rm[i] = float32(e.mean[i] / float64(e.n))
			rv[i] = float32(e.variance[i] / float64(e.n))
		}
		done++
	}
	return done, nil
}
