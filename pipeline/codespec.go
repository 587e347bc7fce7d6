package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

// CodeSpec is what a sample asks of a Coded generator's latent codes:
// NAME=VALUE holds a code at VALUE in every image, NAME=LO:HI traverses it
// (at most one). It is kallima sample's repeatable -code flag (a
// flag.Value) and the server's code= query parameter.
type CodeSpec struct {
	// Fixed holds the codes held at one value.
	Fixed map[string]float64
	// Names lists the codes in the order given.
	Names []string
	// Trav is the traversal, nil for none.
	Trav *CodeRange
}

// CodeRange is a traversal's code and ends.
type CodeRange struct {
	Name   string
	Lo, Hi float64
}

// String lists the codes as given.
func (f *CodeSpec) String() string {
	var parts []string
	for _, n := range f.Names {
		if f.Trav != nil && f.Trav.Name == n {
			parts = append(parts, fmt.Sprintf("%s=%g:%g", n, f.Trav.Lo, f.Trav.Hi))
		} else {
			parts = append(parts, fmt.Sprintf("%s=%g", n, f.Fixed[n]))
		}
	}
	return strings.Join(parts, ",")
}

// Set parses one -code NAME=VALUE or NAME=LO:HI.
func (f *CodeSpec) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || val == "" {
		return fmt.Errorf("%q: want NAME=VALUE or NAME=LO:HI (e.g. c1=3 or c2=-2:2)", s)
	}
	if slices.Contains(f.Names, name) {
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
		if f.Trav != nil {
			return fmt.Errorf("code %s: a second traversal (%s already traverses): traverse one code at a time", name, f.Trav.Name)
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
		f.Trav = &CodeRange{Name: name, Lo: l, Hi: h}
	} else {
		v, err := num(val)
		if err != nil {
			return err
		}
		if f.Fixed == nil {
			f.Fixed = map[string]float64{}
		}
		f.Fixed[name] = v
	}
	f.Names = append(f.Names, name)
	return nil
}

// Given reports whether any code was given.
func (f *CodeSpec) Given() bool { return len(f.Names) > 0 }

// Batch returns the noise and request of a sample with codes: with a
// traversal, a grid of its rows (categories, or rows values) by cols noise
// vectors, and the grid's column count; else n noise vectors with the
// fixed codes in every one. Codes and values are checked against g,
// naming what does not fit.
func (f *CodeSpec) Batch(g family.Coded, rng *tensor.RNG, n, cols, rows int) (*tensor.Tensor, family.Request, int, error) {
	for _, name := range f.Names {
		if _, err := family.FindCode(g, name); err != nil {
			return nil, family.Request{}, 0, err
		}
	}
	prior := g.Prior()
	if f.Trav != nil {
		t, err := family.NewTraversal(g, f.Trav.Name, f.Trav.Lo, f.Trav.Hi, rows)
		if err != nil {
			return nil, family.Request{}, 0, err
		}
		t.Fixed = f.Fixed
		zs, req := t.Grid(prior.Sample(rng, cols))
		return zs, req, cols, nil
	}
	req := family.Request{Codes: map[string][]float64{}}
	for name, v := range f.Fixed {
		req.Codes[name] = slices.Repeat([]float64{v}, n)
	}
	return prior.Sample(rng, n), req, int(math.Ceil(math.Sqrt(float64(n)))), nil
}
