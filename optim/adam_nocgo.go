//go:build !cgo

package optim

// update applies the step to theta with gradient g and moments m, v (all
// of theta's length).
func (k *adamStep) update(theta, g, m, v []float32) { k.updateGo(theta, g, m, v) }

// adamKernel names the implementation of update compiled in.
const adamKernel = "go"

// adamSSE2 does nothing without cgo (adam_cgo.go).
var adamSSE2 bool
