package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// StepView is what Options.OnStep sees after a training step: the step's
// numbers, and for a 2-D run a way to compute its field. It is valid only
// during the call: Field runs the networks, so it must be called from the
// hook itself (on the training goroutine), never later or elsewhere.
type StepView struct {
	Step, Steps int
	// Logs are the step's scalars (with the evaluation's when one ran);
	// the hook must not change them.
	Logs gan.Logs
	// Sample is the path of the sample grid written at this step, "" when
	// none was (or the run has no folder).
	Sample string
	// Points reports a 2-D run, whose Field can be computed.
	Points bool
	// Dir is the run folder the step was written to, "" for Run. While
	// the candidates of a run with train.candidates train it is each
	// candidate's own folder; once one is kept it is the run's, whose
	// metrics then start with the kept candidate's.
	Dir string

	s *session
}

// ErrNoField is returned by StepView.Field for a run that is not 2-D or
// whose model has no generator.
var ErrNoField = errors.New("the run has no 2-D field (image data, or no generator)")

// Field is a 2-D run's state at one step, as the live 2-D view draws it.
type Field struct {
	Step int
	// Real and Fake are the run's fixed real points and the generator's
	// samples of its fixed preview noise (EMA weights when it keeps an
	// EMA), train.sample_n each, [x, y] in data coordinates.
	Real, Fake [][2]float32
	// Arrows are, for each fake point, [x, y, dx, dy]: +grad_x D(x), the
	// direction in which the generator's loss moves its sample (for every
	// loss whose generator side decreases in D). Nil without a Critic.
	Arrows [][4]float32
	// X0, X1, Y0, Y1 bound the plane shown; D holds D's raw output at
	// the centres of an N x N grid over it, row-major with y rising from
	// row 0 (nil without a Critic).
	X0, X1, Y0, Y1 float64
	N              int
	D              []float32
	// Warp are the generator's images of the lines of a WarpN x WarpN
	// grid over its prior's first two dimensions (gan.Prior.Plane): WarpN
	// rows, then WarpN columns, each a polyline of WarpN points.
	Warp [][][2]float32
}

// FieldOptions size a Field; zeros take the defaults.
type FieldOptions struct {
	N     int // heat map cells per side; default 48
	WarpN int // noise grid lines per direction; default 15
	// MaxPoints caps the real and generated points (the first of the
	// run's fixed ones); default 1000, enough to see a distribution and
	// a third of the cost of ring8's 2500.
	MaxPoints int
}

// Field computes the run's 2-D field now: real and generated points, D's
// heat map and gradient arrows (when the family has a family.Critic) and
// the warped noise grid. It changes no weight, statistic or random stream,
// so calling it or not leaves training bit-identical.
func (v StepView) Field(o FieldOptions) (*Field, error) {
	s := v.s
	if s == nil || !v.Points || s.preview == nil {
		return nil, ErrNoField
	}
	n, wn := cmpOr(o.N, 48), cmpOr(o.WarpN, 15)
	m := min(cmpOr(o.MaxPoints, 1000), s.preview.z.Shape()[0])
	fake, err := s.generateFrom(firstRows(s.preview.z, m), s.preview.req)
	if err != nil {
		return nil, fmt.Errorf("field at step %d: %w", v.Step, err)
	}
	f := &Field{Step: v.Step, Real: pairs(firstRows(s.preview.real, m)), Fake: pairs(fake), N: n}
	f.X0, f.X1, f.Y0, f.Y1 = bounds(f.Real, f.Fake)
	if cr := s.model.Critic; cr != nil {
		grid := tensor.New(n*n, 2)
		for r := range n {
			for c := range n {
				grid.Data()[(r*n+c)*2] = float32(f.X0 + (float64(c)+0.5)*(f.X1-f.X0)/float64(n))
				grid.Data()[(r*n+c)*2+1] = float32(f.Y0 + (float64(r)+0.5)*(f.Y1-f.Y0)/float64(n))
			}
		}
		if f.D, _, err = cr.Score(grid, false); err != nil {
			return nil, fmt.Errorf("field at step %d: %w", v.Step, err)
		}
		_, dx, err := cr.Score(fake, true)
		if err != nil {
			return nil, fmt.Errorf("field at step %d: %w", v.Step, err)
		}
		f.Arrows = make([][4]float32, len(f.Fake))
		for i, p := range f.Fake {
			f.Arrows[i] = [4]float32{p[0], p[1], dx.At(i, 0), dx.At(i, 1)}
		}
	}
	if prior := s.model.Generator.Prior(); prior.Dim >= 2 {
		w, err := s.generateFrom(prior.Plane(wn), s.preview.req)
		if err != nil {
			return nil, fmt.Errorf("field at step %d: %w", v.Step, err)
		}
		pts := pairs(w)
		for r := range wn {
			f.Warp = append(f.Warp, pts[r*wn:(r+1)*wn])
		}
		for c := range wn {
			col := make([][2]float32, wn)
			for r := range wn {
				col[r] = pts[r*wn+c]
			}
			f.Warp = append(f.Warp, col)
		}
	}
	return f, nil
}

// firstRows is a copy of x's first m rows.
func firstRows(x *tensor.Tensor, m int) *tensor.Tensor {
	sh := append([]int{m}, x.Shape()[1:]...)
	return tensor.FromSlice(append([]float32(nil), x.Data()[:m*x.Len()/x.Shape()[0]]...), sh...)
}

// pairs copies points x [N, 2] out as pairs.
func pairs(x *tensor.Tensor) [][2]float32 {
	p := make([][2]float32, x.Shape()[0])
	for i := range p {
		p[i] = [2]float32{x.At(i, 0), x.At(i, 1)}
	}
	return p
}

// bounds is a square around the real points (and the fakes, capped at
// twice the real points' extent so one runaway sample cannot shrink the
// picture), with a margin.
func bounds(real, fake [][2]float32) (x0, x1, y0, y1 float64) {
	lo, hi := [2]float64{1e300, 1e300}, [2]float64{-1e300, -1e300}
	for _, p := range real {
		for k := range 2 {
			lo[k], hi[k] = min(lo[k], float64(p[k])), max(hi[k], float64(p[k]))
		}
	}
	cx, cy := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
	half := max(hi[0]-lo[0], hi[1]-lo[1], 1e-3) / 2
	limit := 2 * half
	for _, p := range fake {
		for k, c := range []float64{cx, cy} {
			if d := float64(p[k]) - c; d == d { // not NaN
				half = max(half, min(max(d, -d), limit))
			}
		}
	}
	half *= 1.1
	return cx - half, cx + half, cy - half, cy + half
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// stepView is the hook's view of the session at its current step;
// sampled says a preview was saved at it.
func (s *session) stepView(logs gan.Logs, sampled bool) StepView {
	v := StepView{Step: s.tr.Step, Steps: s.tr.Steps, Logs: logs, Points: !s.data.IsImage() && s.preview != nil, s: s}
	if s.run != nil {
		v.Dir = s.run.Dir()
	}
	if sampled && s.run != nil {
		p := filepath.Join(s.run.Dir(), run.SamplesDir, fmt.Sprintf("step-%06d.png", s.tr.Step))
		if _, err := os.Stat(p); err == nil {
			v.Sample = p
		}
	}
	return v
}
