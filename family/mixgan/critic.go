package mixgan

import ag "github.com/kallima-gan/kallima/autograd"

// expectedD is the critic of a 2-D mixture (model.net mlp): the D
// mixture's expected output sum_j w_j D_j, w the mixture weights. G's
// payoff is the w-weighted sum of its loss on each D_j, so for a loss
// linear in D (WGAN) the critic's gradient is exactly the direction G's
// loss pushes its samples; for the others it weighs each D_j's gradient by
// w_j alone, not also by the loss's slope at D_j.
func expectedD(d *Mixture) func(x *ag.Value) *ag.Value {
	return func(x *ag.Value) *ag.Value {
		w := d.WeightValues()
		var sum *ag.Value
		for j, net := range d.Nets {
			term := ag.Scale(net.Forward(x), float32(w[j]))
			if sum == nil {
				sum = term
			} else {
				sum = ag.Add(sum, term)
			}
		}
		return sum
	}
}
