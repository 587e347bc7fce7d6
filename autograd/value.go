// Package autograd is Kallima's eager reverse-mode automatic differentiation.
//
// A Value wraps a tensor and, when gradients are being recorded, the op that
// made it. Grad works like torch.autograd.grad: it returns gradients of
// outputs with respect to inputs, and with createGraph the gradients are
// themselves recorded Values, so gradients of gradients (WGAN-GP, R1) work.
// Every primitive's backward rule is written with autograd ops for that reason.
//
// Recording is a package-wide switch (SetGradEnabled, NoGrad) like PyTorch's
// grad mode; drive one graph from one goroutine at a time.
package autograd

import (
	"fmt"
	"slices"
	"sort"

	"github.com/kallima-gan/kallima/tensor"
)

// Value is a node of the computation graph: a tensor, and for recorded ops
// the inputs and the rule that sends gradient back to them.
type Value struct {
	data         *tensor.Tensor
	op           string
	inputs       []*Value
	backward     backwardFunc
	requiresGrad bool
	grad         *tensor.Tensor // accumulated by Backward on leaves
}

// backwardFunc maps the gradient of an op's output to one gradient per
// input (nil where none), each in the output's broadcast shape or the
// input's shape; the engine sums broadcast gradients down.
type backwardFunc func(g *Value) []*Value

// Const wraps t as a Value that needs no gradient.
func Const(t *tensor.Tensor) *Value { return &Value{data: t} }

// Param wraps t as a leaf Value whose gradient is wanted: a parameter or an
// input to differentiate with respect to.
func Param(t *tensor.Tensor) *Value { return &Value{data: t, requiresGrad: true} }

// Scalar is Const(tensor.Scalar(v)).
func Scalar(v float32) *Value { return Const(tensor.Scalar(v)) }

// Data returns the tensor the Value holds.
func (v *Value) Data() *tensor.Tensor { return v.data }

// Shape returns the shape of the Value's tensor.
func (v *Value) Shape() []int { return v.data.Shape() }

// Item returns the value of a one-element Value.
func (v *Value) Item() float32 { return v.data.Item() }

// Op names the op that made v ("" for leaves).
func (v *Value) Op() string { return v.op }

// RequiresGrad reports whether gradients flow to or through v.
func (v *Value) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad marks a leaf as needing its gradient.
func (v *Value) SetRequiresGrad(b bool) { v.requiresGrad = b }

// Detach returns a Value sharing v's data with no history.
func (v *Value) Detach() *Value { return Const(v.data) }

// Grad returns the gradient accumulated by Backward (nil before any).
func (v *Value) Grad() *tensor.Tensor { return v.grad }

// ZeroGrad forgets the accumulated gradient and gives its buffer back to
// the tensor pool, where the next Backward finds it: a training loop then
// allocates no new gradients. The old gradient tensor must not be used after.
func (v *Value) ZeroGrad() {
	if v.grad != nil {
		tensor.Release(v.grad)
		v.grad = nil
	}
}

// SetData replaces the tensor of a leaf in place of the old one (used when
// loading weights); the shape must match.
func (v *Value) SetData(t *tensor.Tensor) {
	if !tensor.SameShape(v.data.Shape(), t.Shape()) {
		panic(fmt.Sprintf("autograd.SetData: shape %v into %v", t.Shape(), v.data.Shape()))
	}
	v.data = t
}

var gradEnabled = true

// SetGradEnabled turns recording on or off and returns the previous setting.
func SetGradEnabled(on bool) bool {
	prev := gradEnabled
	gradEnabled = on
	return prev
}

// GradEnabled reports whether ops are being recorded.
func GradEnabled() bool { return gradEnabled }

// NoGrad runs f with recording off: for inference and parameter updates.
func NoGrad(f func()) {
	prev := SetGradEnabled(false)
	defer SetGradEnabled(prev)
	f()
}

// registry lists every primitive op; a test checks each has a gradcheck case.
var registry = map[string]bool{}

func register(name string) string {
	if registry[name] {
		panic("autograd: op registered twice: " + name)
	}
	registry[name] = true
	return name
}

// Ops returns the names of all primitive ops, sorted.
func Ops() []string {
	r := make([]string, 0, len(registry))
	for k := range registry {
		r = append(r, k)
	}
	sort.Strings(r)
	return r
}

// record makes the Value for an op's output, keeping its history only when
// recording is on and some input needs a gradient. It panics if op is not
// registered: an unregistered op would escape TestEveryOpHasGradCheck.
func record(op string, out *tensor.Tensor, inputs []*Value, back backwardFunc) *Value {
	if !registry[op] {
		panic("autograd: op not registered: " + op)
	}
	if !gradEnabled {
		return &Value{data: out, op: op}
	}
	for _, in := range inputs {
		if in.requiresGrad {
			return &Value{data: out, op: op, inputs: inputs, backward: back, requiresGrad: true}
		}
	}
	return &Value{data: out, op: op}
}

// topo returns the nodes that need gradients reachable from outputs, in an
// order where every node comes after its inputs. Iterative, deterministic.
func topo(outputs []*Value) []*Value {
	var order []*Value
	seen := map[*Value]bool{}
	type frame struct {
		v *Value
		i int
	}
	for _, o := range outputs {
		if o == nil || !o.requiresGrad || seen[o] {
			continue
		}
		stack := []frame{{o, 0}}
		seen[o] = true
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i < len(f.v.inputs) {
				in := f.v.inputs[f.i]
				f.i++
				if in.requiresGrad && !seen[in] {
					seen[in] = true
					stack = append(stack, frame{in, 0})
				}
				continue
			}
			order = append(order, f.v)
			stack = stack[:len(stack)-1]
		}
	}
	return order
}

// Grad returns the gradients of outputs with respect to inputs, like
// torch.autograd.grad. gradOutputs holds one seed per output (nil entries,
// or a nil slice, mean ones). With createGraph the returned gradients are
// recorded, so they can be differentiated again; otherwise they are
// constants. An input that no output depends on gets nil.
func Grad(outputs, inputs, gradOutputs []*Value, createGraph bool) []*Value {
	if gradOutputs != nil && len(gradOutputs) != len(outputs) {
		panic(fmt.Sprintf("autograd.Grad: %d gradOutputs for %d outputs", len(gradOutputs), len(outputs)))
	}
	prev := SetGradEnabled(createGraph)
	defer SetGradEnabled(prev)
	grads := run(outputs, gradOutputs)
	res := make([]*Value, len(inputs))
	for i, in := range inputs {
		res[i] = grads[in]
	}
	return res
}

// Backward adds d(loss)/d(leaf) into the Grad of every leaf that needs a
// gradient and that loss depends on. loss must hold one element.
func Backward(loss *Value) {
	if loss.data.Len() != 1 {
		panic(fmt.Sprintf("autograd.Backward: loss of shape %v is not a scalar", loss.Shape()))
	}
	prev := SetGradEnabled(false)
	defer SetGradEnabled(prev)
	grads := run([]*Value{loss}, nil)
	for _, v := range topo([]*Value{loss}) {
		if v.backward != nil {
			continue
		}
		g := grads[v]
		if g == nil {
			continue
		}
		if v.grad == nil {
			// The accumulated gradient outlives any step arena.
			tensor.Persistent(func() { v.grad = g.data.Clone() })
		} else {
			tensor.AddInPlace(v.grad, g.data)
		}
	}
}

func run(outputs, gradOutputs []*Value) map[*Value]*Value {
	grads := map[*Value]*Value{}
	for i, o := range outputs {
		if !o.requiresGrad {
			continue
		}
		var g *Value
		if gradOutputs != nil && gradOutputs[i] != nil {
			g = gradOutputs[i]
			if !tensor.SameShape(g.Shape(), o.Shape()) {
				panic(fmt.Sprintf("autograd.Grad: gradOutput of shape %v for output of shape %v", g.Shape(), o.Shape()))
			}
		} else {
			g = Const(tensor.Ones(o.Shape()...))
		}
		accumulate(grads, o, g)
	}
	order := topo(outputs)
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g := grads[v]
		if g == nil || v.backward == nil {
			continue
		}
		ig := v.backward(g)
		if len(ig) != len(v.inputs) {
			panic(fmt.Sprintf("autograd: %s backward returned %d gradients for %d inputs", v.op, len(ig), len(v.inputs)))
		}
		for j, in := range v.inputs {
			if ig[j] == nil || !in.requiresGrad {
				continue
			}
			gi := ig[j]
			if !tensor.SameShape(gi.Shape(), in.Shape()) {
				// A broadcasting op's gradient comes in the output's shape.
				gi = SumTo(gi, in.Shape())
			}
			accumulate(grads, in, gi)
		}
	}
	return grads
}

func accumulate(grads map[*Value]*Value, v, g *Value) {
	if !tensor.SameShape(g.Shape(), v.Shape()) {
		panic(fmt.Sprintf("autograd: gradient of shape %v for a value of shape %v (op %q)", g.Shape(), v.Shape(), v.op))
	}
	if old := grads[v]; old != nil {
		grads[v] = Add(old, g)
		return
	}
	grads[v] = g
}

// shapeOf returns a copy of v's shape, for closures that must not alias it.
func shapeOf(v *Value) []int { return slices.Clone(v.data.Shape()) }
