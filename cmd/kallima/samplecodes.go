package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

// codeFlags is sample's repeatable -code flag: NAME=VALUE holds a latent
// code at VALUE in every image, NAME=LO:HI traverses it (at most one).
type codeFlags struct {
	fixed map[string]float64
	names []string // in the order given
	trav  *codeRange
}

// codeRange is a traversal's code and ends.
type codeRange struct {
	name   string
	lo, hi float64
}

// String lists the codes as given.
func (f *codeFlags) String() string {
	var parts []string
	for _, n := range f.names {
		if f.trav != nil && f.trav.name == n {
			parts = append(parts, fmt.Sprintf("%s=%g:%g", n, f.trav.lo, f.trav.hi))
		} else {
			parts = append(parts, fmt.Sprintf("%s=%g", n, f.fixed[n]))
		}
	}
	return strings.Join(parts, ",")
}

// Set parses one -code NAME=VALUE or NAME=LO:HI.
func (f *codeFlags) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || val == "" {
		return fmt.Errorf("%q: want NAME=VALUE or NAME=LO:HI (e.g. c1=3 or c2=-2:2)", s)
	}
	if slices.Contains(f.names, name) {
		return fmt.Errorf("code %s given twice", name)
	}
	num := func(t string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("code %s: %q is not a number", name, t)
		}
		return v, nil
	}
	if lo, hi, isRange := strings.Cut(val, ":"); isRange {
		if f.trav != nil {
			return fmt.Errorf("code %s: a second traversal (%s already traverses): traverse one code at a time", name, f.trav.name)
		}
		l, err := num(lo)
		if err != nil {
			return err
		}
		h, err := num(hi)
		if err != nil {
			return err
		}
		if l > h {
			return fmt.Errorf("code %s: traversal %g:%g must run from low to high", name, l, h)
		}
		f.trav = &codeRange{name: name, lo: l, hi: h}
	} else {
		v, err := num(val)
		if err != nil {
			return err
		}
		if f.fixed == nil {
			f.fixed = map[string]float64{}
		}
		f.fixed[name] = v
	}
	f.names = append(f.names, name)
	return nil
}

// given reports whether any -code was given.
func (f *codeFlags) given() bool { return len(f.names) > 0 }

// codeBatch returns the noise and request of a sample with codes: with a
// traversal, a grid of its rows (categories, or rows values) by cols noise
// vectors, and the grid's column count; else n noise vectors with the
// fixed codes in every one. Codes and values are checked against g,
// naming what does not fit.
func (f *codeFlags) codeBatch(g family.Coded, rng *tensor.RNG, n, cols, rows int) (*tensor.Tensor, family.Request, int, error) {
	for _, name := range f.names {
		if _, err := family.FindCode(g, name); err != nil {
			return nil, family.Request{}, 0, err
		}
	}
	prior := g.Prior()
	if f.trav != nil {
		t, err := family.NewTraversal(g, f.trav.name, f.trav.lo, f.trav.hi, rows)
		if err != nil {
			return nil, family.Request{}, 0, err
		}
		t.Fixed = f.fixed
		zs, req := t.Grid(prior.Sample(rng, cols))
		return zs, req, cols, nil
	}
	req := family.Request{Codes: map[string][]float64{}}
	for name, v := range f.fixed {
		req.Codes[name] = slices.Repeat([]float64{v}, n)
	}
	return prior.Sample(rng, n), req, int(math.Ceil(math.Sqrt(float64(n)))), nil
}
