// Package nn holds Kallima's layers: small structs holding named parameters
// (autograd leaves that want gradients) and named buffers (state that a
// checkpoint keeps but no gradient reaches, such as batch norm's running
// statistics or spectral norm's power-iteration vectors), the weight
// initialisation schemes, and spectral normalisation.
//
// A layer is a Module: it lists its parameters and buffers under stable
// dotted names in a fixed order, and switches between training and
// evaluation mode. A composite module lists its children as Children, which
// prefixes each child's names with the child's own name, so a generator's
// first block's convolution weight is "gen.block1.conv.weight" when the
// generator is listed under the prefix "gen". Names follow PyTorch's
// state_dict keys for the same layers, so weights can move between the two.
//
// Layers are created in training mode, like PyTorch's. Forward passes are
// built from autograd ops, so gradients of any order flow through every
// layer (WGAN-GP and R1 penalties differentiate through them twice).
package nn

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Module is anything made of parameters, buffers and submodules.
//
// Params and Buffers list the module's state with each name prefixed by
// prefix and a dot (an empty prefix gives bare names such as "weight"); the
// order is fixed by the module's structure, so two modules built alike list
// alike. SetTraining switches the module and all its children between
// training mode (true: batch statistics, dropout, power iteration) and
// evaluation mode (false).
type Module interface {
	Params(prefix string) []Param
	Buffers(prefix string) []Buffer
	SetTraining(on bool)
}

// Layer is a Module with a forward pass from one Value to one Value, the
// kind that Sequential chains.
type Layer interface {
	Module
	Forward(x *autograd.Value) *autograd.Value
}

// Param is a named parameter: a leaf Value that requires its gradient.
type Param struct {
	Name  string
	Value *autograd.Value
}

// Buffer is a named tensor of state that is checkpointed but not trained;
// layers update it in place, so a loader may copy into Tensor.
type Buffer struct {
	Name   string
	Tensor *tensor.Tensor
	// Sync, when set, recomputes the buffer (and any sibling buffers it
	// goes with) from the module's current parameters. Spectral norm's u
	// and v are such derived state: weights that were not trained in place,
	// such as an exponential moving average (optim.EMA), leave them stale.
	// SyncBuffers calls every Sync.
	Sync func()

	norm *BatchNorm // the layer whose running mean this is (BatchNorms)
}

// SyncBuffers recomputes every buffer of m that is derived from its
// parameters (those with a Sync), for use after weights were put into m
// from elsewhere, such as an EMA's averaged weights.
func SyncBuffers(m Module) {
	for _, b := range m.Buffers("") {
		if b.Sync != nil {
			b.Sync()
		}
	}
}

// Child is a named submodule of a composite module.
type Child struct {
	Name   string
	Module Module
}

// Children is an ordered list of named submodules. Its methods implement
// Module by delegation, prefixing each child's names with its Name, so a
// composite module needs only list its children:
//
//	func (b *Block) children() nn.Children {
//		return nn.Children{{"conv", b.Conv}, {"bn", b.BN}}
//	}
//	func (b *Block) Params(p string) []nn.Param   { return b.children().Params(p) }
//	func (b *Block) Buffers(p string) []nn.Buffer { return b.children().Buffers(p) }
//	func (b *Block) SetTraining(on bool)          { b.children().SetTraining(on) }
//
// Nil modules, including typed nil pointers, are skipped, so optional parts
// may be left out.
type Children []Child

// Params lists the children's parameters in order.
func (c Children) Params(prefix string) []Param {
	var r []Param
	for _, ch := range c {
		if !isNil(ch.Module) {
			r = append(r, ch.Module.Params(Join(prefix, ch.Name))...)
		}
	}
	return r
}

// Buffers lists the children's buffers in order.
func (c Children) Buffers(prefix string) []Buffer {
	var r []Buffer
	for _, ch := range c {
		if !isNil(ch.Module) {
			r = append(r, ch.Module.Buffers(Join(prefix, ch.Name))...)
		}
	}
	return r
}

// SetTraining sets the mode of every child.
func (c Children) SetTraining(on bool) {
	for _, ch := range c {
		if !isNil(ch.Module) {
			ch.Module.SetTraining(on)
		}
	}
}

// isNil reports whether m is nil or a nil pointer (or other nil-able kind)
// in an interface.
func isNil(m Module) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// Join returns prefix + "." + name, or name alone when prefix is empty.
func Join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// named prefixes the names of ps and drops those whose Value is nil, for
// layers whose optional parameters (a bias, an affine scale) may be absent.
func named(prefix string, ps ...Param) []Param {
	r := make([]Param, 0, len(ps))
	for _, p := range ps {
		if p.Value != nil {
			r = append(r, Param{Name: Join(prefix, p.Name), Value: p.Value})
		}
	}
	return r
}

// Parameters returns the Values of all of m's parameters, in Params order:
// the slice an optimizer takes.
func Parameters(m Module) []*autograd.Value {
	ps := m.Params("")
	r := make([]*autograd.Value, len(ps))
	for i, p := range ps {
		r[i] = p.Value
	}
	return r
}

// BufferTensors returns the tensors of m's buffers in order, the slice an
// EMA takes beside Parameters.
func BufferTensors(m Module) []*tensor.Tensor {
	bs := m.Buffers("")
	r := make([]*tensor.Tensor, len(bs))
	for i, b := range bs {
		r[i] = b.Tensor
	}
	return r
}

// State lists every tensor a checkpoint of m must hold: the parameters'
// tensors, then the buffers, each under its name. It panics if two entries
// share a name, which is a bug in a composite module's listing.
func State(m Module) []Buffer {
	var r []Buffer
	for _, p := range m.Params("") {
		r = append(r, Buffer{Name: p.Name, Tensor: p.Value.Data()})
	}
	r = append(r, m.Buffers("")...)
	seen := map[string]bool{}
	for _, b := range r {
		if seen[b.Name] {
			panic(fmt.Sprintf("nn.State: two entries named %q", b.Name))
		}
		seen[b.Name] = true
	}
	return r
}

// LoadState copies tensors from state into m's parameters and buffers by
// name. Every entry of State(m) must be present with the same shape; extra
// entries in state are an error too, so a checkpoint of another
// architecture is not half-loaded. Nothing is copied unless all entries
// match.
func LoadState(m Module, state map[string]*tensor.Tensor) error {
	want := State(m)
	for _, b := range want {
		t, ok := state[b.Name]
		if !ok {
			return fmt.Errorf("load state: missing %q", b.Name)
		}
		if !tensor.SameShape(t.Shape(), b.Tensor.Shape()) {
			return fmt.Errorf("load state: %q has shape %v, want %v", b.Name, t.Shape(), b.Tensor.Shape())
		}
	}
	if len(state) != len(want) {
		have := map[string]bool{}
		for _, b := range want {
			have[b.Name] = true
		}
		var extra []string
		for name := range state {
			if !have[name] {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		return fmt.Errorf("load state: unexpected entries %q", extra)
	}
	for _, b := range want {
		b.Tensor.CopyFrom(state[b.Name])
	}
	return nil
}
