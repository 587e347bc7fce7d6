package family

import (
	"fmt"
	"math"
	"strings"

	"github.com/kallima-gan/kallima/tensor"
)

// Traversal is a latent traversal of one code of a Coded generator: a grid
// whose row r holds the code at Values[r] and whose column j holds noise
// vector j (and so, unless Fixed names them, the other codes of that
// noise), the paper's figure 2 layout.
type Traversal struct {
	// Code is the code's name (c1, c2, ...).
	Code string
	// Values are the rows' values: every category of a categorical code
	// from Lo to Hi, or Rows evenly spaced values from Lo to Hi of a
	// continuous one.
	Values []float64
	// Fixed holds other codes at one value in every image (an entry for
	// Code itself is ignored).
	Fixed map[string]float64
}

// FindCode returns the code of g named name, or an error listing g's codes.
func FindCode(g Coded, name string) (Code, error) {
	var names []string
	for _, c := range g.Codes() {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Code{}, fmt.Errorf("unknown latent code %q (the model has %s)", name, strings.Join(names, ", "))
}

// NewTraversal returns the traversal of code name of g from lo to hi: for
// a categorical code every category lo, lo+1, ..., hi (whole numbers in
// 0 .. K-1), for a continuous one rows evenly spaced values (rows >= 2,
// lo and hi within the code's [Lo, Hi]). It returns an error naming the
// code and the value that does not fit.
func NewTraversal(g Coded, name string, lo, hi float64, rows int) (Traversal, error) {
	c, err := FindCode(g, name)
	if err != nil {
		return Traversal{}, err
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		return Traversal{}, fmt.Errorf("code %s: traversal %g:%g must run from low to high", name, lo, hi)
	}
	t := Traversal{Code: name}
	if c.Categories > 0 {
		if lo != math.Trunc(lo) || hi != math.Trunc(hi) || lo < 0 || hi >= float64(c.Categories) {
			return Traversal{}, fmt.Errorf("code %s: traversal %g:%g: a categorical code runs over whole categories 0 to %d", name, lo, hi, c.Categories-1)
		}
		for v := lo; v <= hi; v++ {
			t.Values = append(t.Values, v)
		}
		return t, nil
	}
	if lo < c.Lo || hi > c.Hi {
		return Traversal{}, fmt.Errorf("code %s: traversal %g:%g out of the code's range [%g, %g]", name, lo, hi, c.Lo, c.Hi)
	}
	if rows < 2 {
		return Traversal{}, fmt.Errorf("code %s: a continuous traversal needs at least 2 rows, got %d", name, rows)
	}
	for r := range rows {
		t.Values = append(t.Values, lo+(hi-lo)*float64(r)/float64(rows-1))
	}
	return t, nil
}

// Grid lays the traversal over the noise vectors z [cols, dim]: it returns
// the noise of every image [len(Values)*cols, dim], row-major (row r,
// column j is image r*cols+j and has noise z[j]), and the request that
// sets the code (and the Fixed codes) of each image.
func (t Traversal) Grid(z *tensor.Tensor) (*tensor.Tensor, Request) {
	cols, dim := z.Size(0), z.Size(1)
	n := len(t.Values) * cols
	zs := tensor.New(n, dim)
	req := Request{Codes: map[string][]float64{t.Code: make([]float64, n)}}
	fixed := map[string]float64{}
	for name, v := range t.Fixed {
		if name != t.Code {
			fixed[name] = v
			req.Codes[name] = make([]float64, n)
		}
	}
	for r, v := range t.Values {
		for j := range cols {
			i := r*cols + j
			copy(zs.Data()[i*dim:(i+1)*dim], z.Data()[j*dim:(j+1)*dim])
			req.Codes[t.Code][i] = v
			for name, fv := range fixed {
				req.Codes[name][i] = fv
			}
		}
	}
	return zs, req
}
