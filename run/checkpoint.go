package run

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Checkpoint is everything needed to resume training at a step: named
// tensors and string metadata. Tensors are grouped by a prefix ending in
// "/": PutModule("g", gen) stores gen's weights as "g/fc.weight", ...,
// PutState("opt_g", opt) the optimizer's state as "opt_g/adam.m.0", ...
// Metadata holds RNG states ("rng/<name>", base64 of tensor.RNG.State),
// JSON values ("json/<name>", such as a data.LoaderState) and any other
// strings the caller adds; keys starting with "run." are reserved for the
// file's own bookkeeping (see SaveCheckpoint).
type Checkpoint struct {
	// Step is the number of training steps done when it was taken.
	Step    int
	Tensors map[string]*tensor.Tensor
	Meta    map[string]string
}

// NewCheckpoint returns an empty checkpoint for step.
func NewCheckpoint(step int) *Checkpoint {
	return &Checkpoint{Step: step, Tensors: map[string]*tensor.Tensor{}, Meta: map[string]string{}}
}

// Stateful is state that saves itself as named tensors: every
// optim.Optimizer and *optim.EMA.
type Stateful interface {
	State() map[string]*tensor.Tensor
	LoadState(state map[string]*tensor.Tensor) error
}

// groupPrefix returns group + "/", panicking on an empty group or one that
// contains "/" (whose keys would mix with another group's).
func groupPrefix(op, group string) string {
	if group == "" || strings.Contains(group, "/") {
		panic(fmt.Sprintf("run.Checkpoint.%s: invalid group name %q (want non-empty, without '/')", op, group))
	}
	return group + "/"
}

// put stores state under group, panicking if the group already has
// tensors: two parts of a model saved under one name is a bug.
func (c *Checkpoint) put(op, group string, state map[string]*tensor.Tensor) {
	prefix := groupPrefix(op, group)
	if c.Tensors == nil {
		c.Tensors = map[string]*tensor.Tensor{}
	}
	for name := range c.Tensors {
		if strings.HasPrefix(name, prefix) {
			panic(fmt.Sprintf("run.Checkpoint.%s: group %q already holds tensors (%q)", op, group, name))
		}
	}
	for name, t := range state {
		c.Tensors[prefix+name] = t
	}
}

// PutModule stores copies of m's parameters and buffers (nn.State) under
// group, as "group/<dotted name>". It panics if group is empty, contains
// "/" or already holds tensors.
func (c *Checkpoint) PutModule(group string, m nn.Module) {
	state := map[string]*tensor.Tensor{}
	tensor.Persistent(func() {
		for _, b := range nn.State(m) {
			state[b.Name] = b.Tensor.Clone()
		}
	})
	c.put("PutModule", group, state)
}

// LoadModule copies the tensors of group into m's parameters and buffers
// (nn.LoadState: every entry must be present with its shape, and no other;
// nothing is copied on an error).
func (c *Checkpoint) LoadModule(group string, m nn.Module) error {
	state := c.Group(group)
	if len(state) == 0 {
		return fmt.Errorf("run: checkpoint at step %d has no group %q", c.Step, group)
	}
	if err := nn.LoadState(m, state); err != nil {
		return fmt.Errorf("run: group %q: %w", group, err)
	}
	return nil
}

// PutState stores s.State() (an optimizer's or an EMA's, already copies)
// under group. It panics like PutModule.
func (c *Checkpoint) PutState(group string, s Stateful) {
	c.put("PutState", group, s.State())
}

// LoadState restores s from the tensors of group (s.LoadState, which leaves
// s unchanged on an error).
func (c *Checkpoint) LoadState(group string, s Stateful) error {
	state := c.Group(group)
	if len(state) == 0 {
		return fmt.Errorf("run: checkpoint at step %d has no group %q", c.Step, group)
	}
	if err := s.LoadState(state); err != nil {
		return fmt.Errorf("run: group %q: %w", group, err)
	}
	return nil
}

// Group returns the tensors stored under group, keyed without the
// "group/" prefix (shared with the checkpoint, not copies).
func (c *Checkpoint) Group(group string) map[string]*tensor.Tensor {
	prefix := groupPrefix("Group", group)
	out := map[string]*tensor.Tensor{}
	for name, t := range c.Tensors {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			out[rest] = t
		}
	}
	return out
}

// Groups returns the checkpoint's group names, sorted: the part of each
// tensor name before its first "/".
func (c *Checkpoint) Groups() []string {
	set := map[string]bool{}
	for name := range c.Tensors {
		if g, _, ok := strings.Cut(name, "/"); ok {
			set[g] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// PutRNG stores g's state as Meta["rng/"+name], base64-encoded.
func (c *Checkpoint) PutRNG(name string, g *tensor.RNG) {
	c.meta()["rng/"+name] = base64.StdEncoding.EncodeToString(g.State())
}

// LoadRNG restores g from Meta["rng/"+name], so that it continues the
// stream it was saved in.
func (c *Checkpoint) LoadRNG(name string, g *tensor.RNG) error {
	s, ok := c.Meta["rng/"+name]
	if !ok {
		return fmt.Errorf("run: checkpoint at step %d has no RNG %q", c.Step, name)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("run: RNG %q: %w", name, err)
	}
	if err := g.SetState(b); err != nil {
		return fmt.Errorf("run: RNG %q: %w", name, err)
	}
	return nil
}

// PutJSON stores v, JSON-encoded, as Meta["json/"+name]: a data.LoaderState,
// counters, anything small that encoding/json handles.
func (c *Checkpoint) PutJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("run: checkpoint JSON %q: %w", name, err)
	}
	c.meta()["json/"+name] = string(b)
	return nil
}

// LoadJSON decodes Meta["json/"+name] into v.
func (c *Checkpoint) LoadJSON(name string, v any) error {
	s, ok := c.Meta["json/"+name]
	if !ok {
		return fmt.Errorf("run: checkpoint at step %d has no JSON %q", c.Step, name)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("run: checkpoint JSON %q: %w", name, err)
	}
	return nil
}

func (c *Checkpoint) meta() map[string]string {
	if c.Meta == nil {
		c.Meta = map[string]string{}
	}
	return c.Meta
}
