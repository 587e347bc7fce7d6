package models

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// dVariants are the discriminator flavours: batch norm, none (WGAN-GP) and
// spectral norm.
var dVariants = []struct {
	name    string
	noBN    bool
	specNrm bool
}{{"bn", false, false}, {"nobn", true, false}, {"sn", false, true}}

func TestDCGANShapes(t *testing.T) {
	rng := tensor.NewRNG(1)
	// features: the last block's channels times the base side squared.
	baseFeat := map[int]int{28: 2 * 7 * 7, 32: 4 * 4 * 4, 64: 8 * 4 * 4}
	for _, size := range []int{28, 32, 64} {
		for _, ch := range []int{1, 3} {
			for _, w := range []int{1, 3, 8} {
				c := DCGANConfig{Size: size, Channels: ch, Width: w, ZDim: 5}
				t.Run(fmt.Sprintf("%dx%dx%d/w%d", ch, size, size, w), func(t *testing.T) {
					g, err := NewDCGANGenerator(c, rng)
					if err != nil {
						t.Fatal(err)
					}
					x := g.Forward(autograd.Const(rng.Normal(0, 1, 2, 5)))
					if want := []int{2, ch, size, size}; !slices.Equal(x.Shape(), want) {
						t.Fatalf("G output %v, want %v", x.Shape(), want)
					}
					for _, v := range x.Data().Data() {
						if !(v >= -1 && v <= 1) {
							t.Fatalf("G output %g outside tanh's range", v)
						}
					}
					for _, dv := range dVariants {
						dc := c
						dc.NoBatchNorm, dc.SpectralNorm = dv.noBN, dv.specNrm
						d, err := NewDCGANDiscriminator(dc, rng)
						if err != nil {
							t.Fatal(err)
						}
						f, l := d.Features(x)
						if !slices.Equal(l.Shape(), []int{2, 1}) || !slices.Equal(f.Shape(), []int{2, w * baseFeat[size]}) ||
							d.FeatureDim() != w*baseFeat[size] {
							t.Fatalf("%s: logits %v, features %v (dim %d), want [2 1], [2 %d]", dv.name, l.Shape(), f.Shape(), d.FeatureDim(), w*baseFeat[size])
						}
						if fl := d.Forward(x); !slices.Equal(fl.Shape(), []int{2, 1}) {
							t.Fatalf("%s: Forward gives %v", dv.name, fl.Shape())
						}
					}
				})
			}
		}
	}
}

func TestDCGANConfigErrors(t *testing.T) {
	good := DCGANConfig{Size: 32, Channels: 3, Width: 4, ZDim: 8}
	for _, c := range []struct {
		edit  func(c *DCGANConfig)
		field string
	}{
		{func(c *DCGANConfig) { c.Size = 30 }, "Size 30"},
		{func(c *DCGANConfig) { c.Size = 0 }, "Size 0"},
		{func(c *DCGANConfig) { c.Channels = 2 }, "Channels 2"},
		{func(c *DCGANConfig) { c.Width = 0 }, "Width 0"},
		{func(c *DCGANConfig) { c.Width = -3 }, "Width -3"},
	} {
		bad := good
		c.edit(&bad)
		if _, err := NewDCGANGenerator(bad, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("generator: error %v, want one naming %q", err, c.field)
		}
		if _, err := NewDCGANDiscriminator(bad, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("discriminator: error %v, want one naming %q", err, c.field)
		}
	}
	noZ := good
	noZ.ZDim = 0
	if _, err := NewDCGANGenerator(noZ, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "ZDim 0") {
		t.Errorf("generator without ZDim: error %v", err)
	}
	if _, err := NewDCGANDiscriminator(noZ, tensor.NewRNG(1)); err != nil {
		t.Errorf("the discriminator needs no ZDim: %v", err)
	}
}

// shapes lists "name [shape]" for each parameter, then "name [shape]" for
// each buffer after a "--" line.
func shapes(m nn.Module) []string {
	var r []string
	for _, p := range m.Params("") {
		r = append(r, fmt.Sprint(p.Name, " ", p.Value.Shape()))
	}
	r = append(r, "--")
	for _, b := range m.Buffers("") {
		r = append(r, fmt.Sprint(b.Name, " ", b.Tensor.Shape()))
	}
	return r
}

// TestDCGANStateNames pins the state names and shapes that checkpoints
// rely on. The 28x28 pair with Width 64 is the bench workload's (less the
// biases batch norm cancels).
func TestDCGANStateNames(t *testing.T) {
	rng := tensor.NewRNG(1)
	c28 := DCGANConfig{Size: 28, Channels: 1, Width: 64, ZDim: 100}
	g28, _ := NewDCGANGenerator(c28, rng)
	d28, _ := NewDCGANDiscriminator(c28, rng)
	c32 := DCGANConfig{Size: 32, Channels: 3, Width: 2, SpectralNorm: true}
	d32, _ := NewDCGANDiscriminator(c32, rng)
	c64 := DCGANConfig{Size: 64, Channels: 3, Width: 2, NoBatchNorm: true, ZDim: 3}
	g64, _ := NewDCGANGenerator(c64, rng)
	for _, c := range []struct {
		name string
		m    nn.Module
		want []string
	}{
		{"G28", g28, []string{
			"project.weight [6272 100]", "project_bn.weight [6272]", "project_bn.bias [6272]",
			"blocks.0.conv.weight [128 64 4 4]", "blocks.0.bn.weight [64]", "blocks.0.bn.bias [64]",
			"out.weight [64 1 4 4]", "out.bias [1]", "--",
			"project_bn.running_mean [6272]", "project_bn.running_var [6272]",
			"blocks.0.bn.running_mean [64]", "blocks.0.bn.running_var [64]"}},
		{"D28", d28, []string{
			"blocks.0.conv.weight [64 1 4 4]", "blocks.0.conv.bias [64]",
			"blocks.1.conv.weight [128 64 4 4]", "blocks.1.bn.weight [128]", "blocks.1.bn.bias [128]",
			"head.weight [1 6272]", "head.bias [1]", "--",
			"blocks.1.bn.running_mean [128]", "blocks.1.bn.running_var [128]"}},
		{"D32/sn", d32, []string{
			"blocks.0.conv.weight_orig [2 3 4 4]", "blocks.0.conv.bias [2]",
			"blocks.1.conv.weight_orig [4 2 4 4]", "blocks.1.conv.bias [4]",
			"blocks.2.conv.weight_orig [8 4 4 4]", "blocks.2.conv.bias [8]",
			"head.weight_orig [1 128]", "head.bias [1]", "--",
			"blocks.0.conv.weight_u [2]", "blocks.0.conv.weight_v [48]",
			"blocks.1.conv.weight_u [4]", "blocks.1.conv.weight_v [32]",
			"blocks.2.conv.weight_u [8]", "blocks.2.conv.weight_v [64]",
			"head.weight_u [1]", "head.weight_v [128]"}},
		{"G64", g64, []string{
			"project.weight [256 3]", "project_bn.weight [256]", "project_bn.bias [256]",
			"blocks.0.conv.weight [16 8 4 4]", "blocks.0.bn.weight [8]", "blocks.0.bn.bias [8]",
			"blocks.1.conv.weight [8 4 4 4]", "blocks.1.bn.weight [4]", "blocks.1.bn.bias [4]",
			"blocks.2.conv.weight [4 2 4 4]", "blocks.2.bn.weight [2]", "blocks.2.bn.bias [2]",
			"out.weight [2 3 4 4]", "out.bias [3]", "--",
			"project_bn.running_mean [256]", "project_bn.running_var [256]",
			"blocks.0.bn.running_mean [8]", "blocks.0.bn.running_var [8]",
			"blocks.1.bn.running_mean [4]", "blocks.1.bn.running_var [4]",
			"blocks.2.bn.running_mean [2]", "blocks.2.bn.running_var [2]"}},
	} {
		if got := shapes(c.m); !slices.Equal(got, c.want) {
			t.Errorf("%s state:\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
		nn.State(c.m) // panics on a duplicate name
	}
	// The same config lists the same state, whatever the seed.
	other, _ := NewDCGANDiscriminator(c32, tensor.NewRNG(99))
	if !slices.Equal(shapes(other), shapes(d32)) {
		t.Error("state listing depends on the seed")
	}
}

// TestDCGANNormalInit checks the paper's initialisation: weights N(0,
// 0.02), batch norm scales N(1, 0.02), biases 0.
func TestDCGANNormalInit(t *testing.T) {
	c := DCGANConfig{Size: 64, Channels: 3, Width: 8, ZDim: 100, NormalInit: true}
	g, _ := NewDCGANGenerator(c, tensor.NewRNG(3))
	d, _ := NewDCGANDiscriminator(c, tensor.NewRNG(4))
	checked := 0
	for _, m := range []nn.Module{g, d} {
		for _, p := range m.Params("") {
			x := p.Value.Data().Data()
			var s, ss float64
			for _, v := range x {
				s += float64(v)
				ss += float64(v) * float64(v)
			}
			n := float64(len(x))
			mean := s / n
			std := math.Sqrt(ss/n - mean*mean)
			switch {
			case strings.HasSuffix(p.Name, "bias"):
				if ss != 0 {
					t.Errorf("%s is not zero", p.Name)
				}
			case strings.Contains(p.Name, "bn.weight"):
				if tol := 0.02 * 5 / math.Sqrt(n); math.Abs(mean-1) > tol || (n >= 64 && math.Abs(std-0.02) > 0.006) {
					t.Errorf("%s: mean %.4f std %.4f, want 1, 0.02", p.Name, mean, std)
				}
			default:
				if tol := 0.02 * 5 / math.Sqrt(n); math.Abs(mean) > tol || math.Abs(std-0.02) > 0.02*5/math.Sqrt(2*n) {
					t.Errorf("%s: mean %.4f std %.4f, want 0, 0.02", p.Name, mean, std)
				}
			}
			checked++
		}
	}
	if checked < 15 {
		t.Fatalf("checked only %d parameters", checked)
	}
	// Without NormalInit the layers keep PyTorch's uniform default.
	c.NormalInit = false
	d, _ = NewDCGANDiscriminator(c, tensor.NewRNG(4))
	if b := d.Blocks[0].Conv.(*nn.Conv2d).Bias.Data(); tensor.Sum(tensor.Abs(b), nil, false).Item() == 0 {
		t.Error("default init left the first bias at zero")
	}
}

// probe is a tensor that gradCheck varies. A direct probe is checked
// element by element. A projected one is checked along probeDirs random
// directions: the network sees t0 + sum_j u_j P_j and GradCheck varies u,
// starting at 0, so each checked "element" is a directional derivative
// along a dense random direction P_j (and the Hessian check is the Hessian
// projected onto them). In float32 the finite difference of a network's
// output sum carries a rounding error near 1e-7 |L| / eps, which swamps the
// derivative with respect to one of a thousand pixels; a dense direction's
// derivative sums all of them and stands well above it. A wrong gradient
// in any element still shows, unless the error is orthogonal to every
// direction.
type probe struct {
	ptr       **autograd.Value
	projected bool
}

// probeDirs is the number of random directions of a projected probe.
const probeDirs = 6

// gradCheck runs autograd.GradCheck of sq(forward(x)) with respect to x
// (projected) and the probes' tensors, which it swaps in for each
// evaluation and restores afterwards.
func gradCheck(t *testing.T, x *tensor.Tensor, probes []probe, forward func(x *autograd.Value) *autograd.Value, opts autograd.CheckOptions) {
	t.Helper()
	f := probeFunc(x, probes, forward, tensor.NewRNG(opts.Seed+100))
	if err := autograd.GradCheck(f, probeInputs(probes), opts); err != nil {
		t.Fatal(err)
	}
}

// probeInputs lists GradCheck's inputs: u = 0 for x, then each probe's
// tensor or its u = 0.
func probeInputs(probes []probe) []*tensor.Tensor {
	r := []*tensor.Tensor{tensor.New(probeDirs)}
	for _, p := range probes {
		if p.projected {
			r = append(r, tensor.New(probeDirs))
		} else {
			r = append(r, (*p.ptr).Data().Clone())
		}
	}
	return r
}

// probeFunc builds GradCheck's function; see probe. A tensor's directions
// are drawn with its own standard deviation (1 if it is constant).
func probeFunc(x *tensor.Tensor, probes []probe, forward func(x *autograd.Value) *autograd.Value, rng *tensor.RNG) func([]*autograd.Value) *autograd.Value {
	type proj struct{ t0, dirs *tensor.Tensor }
	makeProj := func(t0 *tensor.Tensor) proj {
		var s, ss float64
		for _, v := range t0.Data() {
			s += float64(v)
			ss += float64(v) * float64(v)
		}
		n := float64(t0.Len())
		std := math.Sqrt(max(ss/n-(s/n)*(s/n), 0))
		if std == 0 {
			std = 1
		}
		return proj{t0.Clone(), rng.Normal(0, float32(std), t0.Len(), probeDirs)}
	}
	apply := func(p proj, u *autograd.Value) *autograd.Value {
		d := autograd.MatMul(autograd.Const(p.dirs), autograd.Reshape(u, probeDirs, 1), false, false)
		return autograd.Add(autograd.Const(p.t0), autograd.Reshape(d, p.t0.Shape()...))
	}
	px := makeProj(x)
	projs := make([]proj, len(probes))
	for i, p := range probes {
		if p.projected {
			projs[i] = makeProj((*p.ptr).Data())
		}
	}
	return func(xs []*autograd.Value) *autograd.Value {
		saved := make([]*autograd.Value, len(probes))
		for i, p := range probes {
			saved[i] = *p.ptr
			if p.projected {
				*p.ptr = apply(projs[i], xs[i+1])
			} else {
				*p.ptr = xs[i+1]
			}
		}
		defer func() {
			for i, p := range probes {
				*p.ptr = saved[i]
			}
		}()
		return autograd.Square(forward(apply(px, xs[0])))
	}
}

// smooth replaces the ReLUs and LeakyReLUs of DCGAN blocks by softplus,
// for gradient checks. A finite difference through a whole network moves
// many pre-activations; one of them within the step of a kink gives a
// wrong numeric slope (and a numeric Hessian off by the jump over the
// step), which at any usable float32 step happens somewhere for most seeds.
// The activations' own gradients are checked in nn and autograd; these
// checks test the wiring (reshapes, concatenations, batch and spectral
// norm, the projection), and the golden tests check the real networks
// against PyTorch.
func smooth(blocks []*ConvBlock) {
	for _, b := range blocks {
		b.Act = nn.Softplus{}
	}
}

// settle runs a few training-mode forward passes so spectral norm's power
// iteration converges, then switches m to evaluation mode: with u and v
// fixed, W / (u^T W v) is a fixed smooth function that finite differences
// can check.
func settle(m nn.Module, f func()) {
	for range 20 {
		autograd.NoGrad(f)
	}
	m.SetTraining(false)
}

// checkOpts are the gradient checks' options: GradCheck's defaults, which
// derive the tolerance from the measured float32 noise; the derivatives
// along dense directions are of order 0.1 to 10, far above it.
func checkOpts(seed uint64) autograd.CheckOptions {
	return autograd.CheckOptions{SecondOrder: true, Seed: seed}
}

// tiny is the gradient checks' geometry: 16x16 images (base 4 after two
// doublings, so D has a batch-normed block and G a transposed one beside
// the output), Width 2. The package does not offer Size 16; the builders
// take it.
var tiny = DCGANConfig{Size: 16, Channels: 1, Width: 2, ZDim: 3}

// TestDCGANDiscriminatorBackward checks tiny discriminators' gradients and
// Hessian-vector products (which WGAN-GP's penalty needs) with respect to
// the input, the first convolution's weight (both projected) and the
// head's weight (element-wise), and a tiny generator's with respect to z
// and the projection's and the output convolution's weights, batch norm in
// training mode. Spectral norm runs in evaluation mode after its power
// iteration has converged, so u and v stay fixed between evaluations.
func TestDCGANDiscriminatorBackward(t *testing.T) {
	checkDCGANBackward(t, 0)
}

// checkDCGANBackward runs the discriminator and generator checks with
// networks, inputs and GradCheck seeds drawn from seed.
func checkDCGANBackward(t *testing.T, seed uint64) {
	for i, dv := range dVariants {
		for _, size := range []int{16, 28} {
			t.Run(fmt.Sprintf("%s/%d", dv.name, size), func(t *testing.T) {
				rng := tensor.NewRNG(uint64(10+i) + 1000*seed)
				c := tiny
				c.Size, c.NoBatchNorm, c.SpectralNorm = size, dv.noBN, dv.specNrm
				d := newDCGANDiscriminator(c, 1, rng)
				x := rng.Normal(0, 1, 4, 1, size, size)
				if dv.specNrm {
					settle(d, func() { d.Forward(autograd.Const(x)) })
				}
				smooth(d.Blocks)
				conv := d.Blocks[0].Conv.(*nn.Conv2d)
				gradCheck(t, x, []probe{{&conv.Weight, true}, {&d.Head.Weight, false}}, d.Forward, checkOpts(uint64(i)+100*seed))
			})
		}
	}
	t.Run("generator", func(t *testing.T) {
		rng := tensor.NewRNG(20 + 1000*seed)
		g := newDCGANGenerator(tiny, rng)
		smooth(g.Blocks)
		g.ProjectAct = nn.Softplus{}
		probes := []probe{{&g.Project.Weight, true}, {&g.Out.Weight, true}}
		gradCheck(t, rng.Normal(0, 1, 6, 3), probes, g.Forward, checkOpts(5+100*seed))
	})
}

// TestDCGANBackwardSeeds runs the discriminator and generator checks on
// 100 seeds. Long: skipped with -short.
func TestDCGANBackwardSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the DCGAN gradient checks on 100 seeds")
	}
	for seed := uint64(1); seed <= 100; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkDCGANBackward(t, seed) })
	}
}

// TestDCGANGradCheckDetectsBug makes sure the check as used here would fail
// on a wrong gradient: a discriminator whose first block's gradient is
// scaled by 1/3 (value 1.5 h, gradient 0.5 h').
func TestDCGANGradCheckDetectsBug(t *testing.T) {
	rng := tensor.NewRNG(10)
	c := tiny
	c.NoBatchNorm = true
	d := newDCGANDiscriminator(c, 1, rng)
	smooth(d.Blocks)
	broken := func(x *autograd.Value) *autograd.Value {
		h := d.Blocks[0].Forward(x)
		h = autograd.Add(h.Detach(), autograd.Scale(h, 0.5))
		return d.Head.Forward(autograd.Flatten(d.Blocks[1].Forward(h)))
	}
	x := rng.Normal(0, 1, 4, 1, 16, 16)
	check := func(f func(*autograd.Value) *autograd.Value) error {
		return autograd.GradCheck(probeFunc(x, nil, f, tensor.NewRNG(1)), probeInputs(nil), checkOpts(1))
	}
	if err := check(broken); err == nil {
		t.Fatal("GradCheck accepted a wrong gradient")
	}
	if err := check(d.Forward); err != nil {
		t.Fatalf("the same network without the bug: %v", err)
	}
}

// TestDCGANEvalMode checks that evaluation mode uses batch norm's running
// statistics: a sample's output no longer depends on the rest of the
// batch.
func TestDCGANEvalMode(t *testing.T) {
	rng := tensor.NewRNG(2)
	g, _ := NewDCGANGenerator(DCGANConfig{Size: 32, Channels: 3, Width: 2, ZDim: 4}, rng)
	z := rng.Normal(0, 1, 4, 4)
	first := func() []float32 {
		var out *tensor.Tensor
		autograd.NoGrad(func() { out = g.Forward(autograd.Const(z)).Data() })
		return tensor.Slice(out, 0, 0, 1).Data()
	}
	a := first()
	z.Data()[4] += 3 // change sample 1
	if slices.Equal(a, first()) {
		t.Fatal("training mode: sample 0 ignores the rest of the batch")
	}
	g.SetTraining(false)
	b := first()
	z.Data()[5] -= 2
	if !slices.Equal(b, first()) {
		t.Fatal("evaluation mode: sample 0 depends on the rest of the batch")
	}
}

func TestDCGANPanicsOnShape(t *testing.T) {
	rng := tensor.NewRNG(1)
	g, _ := NewDCGANGenerator(DCGANConfig{Size: 28, Channels: 1, Width: 1, ZDim: 3}, rng)
	d, _ := NewDCGANDiscriminator(DCGANConfig{Size: 32, Channels: 3, Width: 1}, rng)
	v := func(shape ...int) *autograd.Value { return autograd.Const(tensor.New(shape...)) }
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"G", func() { g.Forward(v(2, 4)) }, "models.DCGANGenerator: noise shape [2 4], want [N 3]"},
		{"D/channels", func() { d.Forward(v(2, 1, 32, 32)) }, "models.DCGANDiscriminator: input shape [2 1 32 32], want [N 3 32 32]"},
		{"D/size", func() { d.Forward(v(2, 3, 28, 28)) }, "input shape [2 3 28 28]"},
	} {
		t.Run(c.name, func(t *testing.T) { expectPanic(t, c.f, c.want) })
	}
}

func expectPanic(t *testing.T, f func(), want string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want it to contain %q", msg, want)
		}
	}()
	f()
}

// TestDCGANDense checks the optional fully connected layer (InfoGAN's FC
// 1024): its place in both networks' state, D's features becoming its
// output, spectral norm on it in an SN discriminator, and the error for a
// negative width.
func TestDCGANDense(t *testing.T) {
	rng := tensor.NewRNG(3)
	c := DCGANConfig{Size: 28, Channels: 1, Width: 2, ZDim: 5, Dense: 7}
	g, err := NewDCGANGenerator(c, rng)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dense.weight [7 5]", "dense_bn.weight [7]", "dense_bn.bias [7]",
		"project.weight [196 7]", "project_bn.weight [196]", "project_bn.bias [196]",
		"blocks.0.conv.weight [4 2 4 4]", "blocks.0.bn.weight [2]", "blocks.0.bn.bias [2]",
		"out.weight [2 1 4 4]", "out.bias [1]", "--",
		"dense_bn.running_mean [7]", "dense_bn.running_var [7]",
		"project_bn.running_mean [196]", "project_bn.running_var [196]",
		"blocks.0.bn.running_mean [2]", "blocks.0.bn.running_var [2]"}
	if got := shapes(g); !slices.Equal(got, want) {
		t.Errorf("G state:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	x := g.Forward(autograd.Const(rng.Normal(0, 1, 3, 5)))
	for _, dv := range dVariants {
		dc := c
		dc.NoBatchNorm, dc.SpectralNorm = dv.noBN, dv.specNrm
		d, err := NewDCGANDiscriminator(dc, rng)
		if err != nil {
			t.Fatal(err)
		}
		f, l := d.Features(x)
		if !slices.Equal(f.Shape(), []int{3, 7}) || d.FeatureDim() != 7 || !slices.Equal(l.Shape(), []int{3, 1}) {
			t.Errorf("%s: features %v (dim %d), logits %v, want [3 7], [3 1]", dv.name, f.Shape(), d.FeatureDim(), l.Shape())
		}
		names := strings.Join(shapes(d), " ")
		wantDense := map[string]string{"bn": "dense.weight [7 196] dense_bn.weight [7] dense_bn.bias [7] head.weight [1 7]",
			"nobn": "dense.weight [7 196] dense.bias [7] head.weight [1 7]",
			"sn":   "dense.weight_orig [7 196] dense.bias [7] head.weight_orig [1 7]"}[dv.name]
		if !strings.Contains(names, wantDense) {
			t.Errorf("%s: D state %s, want it to hold %q", dv.name, names, wantDense)
		}
		nn.State(d)
	}
	c.Dense = -1
	if _, err := NewDCGANGenerator(c, rng); err == nil || !strings.Contains(err.Error(), "Dense -1") {
		t.Errorf("negative Dense: error %v", err)
	}
}

// TestDCGANMinibatch checks minibatch discrimination in D: its state (T
// between the features and a head widened by the kernels), that an image's
// logit then depends on the rest of its batch (and without the layer, in
// evaluation mode, does not), the features staying phi(x), and gradients
// through the layer to T and the input against finite differences.
func TestDCGANMinibatch(t *testing.T) {
	rng := tensor.NewRNG(4)
	c := DCGANConfig{Size: 28, Channels: 1, Width: 2, MinibatchKernels: 6, MinibatchDim: 3}
	d, err := NewDCGANDiscriminator(c, rng)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(shapes(d), " ")
	if want := "minibatch.T [196 18] head.weight [1 202] head.bias [1]"; !strings.Contains(names, want) {
		t.Errorf("D state %s, want it to hold %q", names, want)
	}
	nn.State(d)
	plain, _ := NewDCGANDiscriminator(DCGANConfig{Size: 28, Channels: 1, Width: 2}, tensor.NewRNG(4))
	d.SetTraining(false)
	plain.SetTraining(false)
	x := rng.Normal(0, 1, 3, 1, 28, 28)
	same := tensor.New(3, 1, 28, 28)
	for i := range 3 {
		copy(same.Data()[i*784:(i+1)*784], x.Data()[:784])
	}
	first := func(m *DCGANDiscriminator, x *tensor.Tensor) (float32, []int) {
		var l float32
		var fs []int
		autograd.NoGrad(func() {
			f, lo := m.Features(autograd.Const(x))
			l, fs = lo.Data().Data()[0], f.Shape()
		})
		return l, fs
	}
	mixed, fs := first(d, x)
	alike, _ := first(d, same)
	if mixed == alike {
		t.Errorf("with minibatch discrimination image 0's logit is %v in a varied batch and in a batch of its copies, want them to differ", mixed)
	}
	if !slices.Equal(fs, []int{3, 196}) {
		t.Errorf("features %v, want [3 196] (phi(x), before the minibatch layer)", fs)
	}
	if a, b := first(plain, x); a != func() float32 { v, _ := first(plain, same); return v }() {
		t.Errorf("without the layer image 0's logit changed with its batch: %v (features %v)", a, b)
	}
	// The layer's own derivatives are checked in nn (away from |.|'s kinks,
	// which a finite difference through the whole network cannot avoid);
	// here: the logit's gradient reaches T and the input exactly as through
	// the layer and head applied to D's features.
	tc := tiny
	tc.NoBatchNorm, tc.MinibatchKernels = true, 4
	dt := newDCGANDiscriminator(tc, 1, tensor.NewRNG(7))
	xt := autograd.Param(tensor.NewRNG(8).Normal(0, 1, 4, 1, 16, 16))
	autograd.Backward(autograd.Sum(autograd.Square(dt.Forward(xt)), nil, false))
	gT, gx := dt.Minibatch.T.Grad().Clone(), xt.Grad().Clone()
	dt.Minibatch.T.ZeroGrad()
	dt.Head.Weight.ZeroGrad()
	xt.ZeroGrad()
	f, _ := dt.Features(xt)
	fc := autograd.Param(f.Data().Clone())
	autograd.Backward(autograd.Sum(autograd.Square(dt.Head.Forward(dt.Minibatch.Forward(fc))), nil, false))
	autograd.Backward(autograd.Sum(autograd.Mul(f, autograd.Const(fc.Grad())), nil, false))
	near := func(what string, got, want *tensor.Tensor) {
		t.Helper()
		var norm, diff float64
		for i, w := range want.Data() {
			norm += float64(w) * float64(w)
			diff += math.Pow(float64(got.Data()[i]-w), 2)
		}
		if norm == 0 || diff > 1e-10*norm {
			t.Errorf("%s: gradient through D differs from the layer's on D's features (|diff|^2 %g, |want|^2 %g)", what, diff, norm)
		}
	}
	near("T", gT, dt.Minibatch.T.Grad())
	near("input", gx, xt.Grad())
	bad := c
	bad.MinibatchKernels = -1
	if _, err := NewDCGANDiscriminator(bad, rng); err == nil || !strings.Contains(err.Error(), "MinibatchKernels -1") {
		t.Errorf("negative MinibatchKernels: error %v", err)
	}
}

// TestDCGANDExtra checks the strided convolutions DExtra adds to D below the
// base side: their state (channels doubling on, batch norm after each),
// the odd sides rounding down (28: 7 -> 3 -> 1), the features and head they
// leave, every D flavour's shapes, the error for an out-of-range count, and
// gradients through them against finite differences.
func TestDCGANDExtra(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, c := range []struct {
		size, extra int
		last        string // the last block's convolution
		features    int
	}{
		{28, 1, "blocks.2.conv.weight [8 4 4 4]", 8 * 3 * 3},
		{28, 2, "blocks.3.conv.weight [16 8 4 4]", 16},
		{32, 2, "blocks.4.conv.weight [32 16 4 4]", 32},
	} {
		dc := DCGANConfig{Size: c.size, Channels: 3, Width: 2, DExtra: c.extra}
		x := rng.Normal(0, 1, 3, 3, c.size, c.size)
		for _, dv := range dVariants {
			dc.NoBatchNorm, dc.SpectralNorm = dv.noBN, dv.specNrm
			d, err := NewDCGANDiscriminator(dc, rng)
			if err != nil {
				t.Fatal(err)
			}
			_, n := dc.levels()
			if len(d.Blocks) != n+c.extra {
				t.Errorf("%d/%d/%s: %d blocks, want %d", c.size, c.extra, dv.name, len(d.Blocks), n+c.extra)
			}
			f, l := d.Features(autograd.Const(x))
			if !slices.Equal(f.Shape(), []int{3, c.features}) || d.FeatureDim() != c.features || !slices.Equal(l.Shape(), []int{3, 1}) {
				t.Errorf("%d/%d/%s: features %v (dim %d), logits %v, want [3 %d], [3 1]", c.size, c.extra, dv.name, f.Shape(), d.FeatureDim(), l.Shape(), c.features)
			}
			nn.State(d)
			if dv.name != "bn" {
				continue
			}
			names := strings.Join(shapes(d), " ")
			last := strings.Fields(c.last)[0]
			bn := strings.Replace(last, "conv.weight", "bn.weight", 1)
			if !strings.Contains(names, c.last) || !strings.Contains(names, bn) || !strings.Contains(names, fmt.Sprintf("head.weight [1 %d]", c.features)) {
				t.Errorf("%d/%d: D state %s, want %q, %s and a head over %d features", c.size, c.extra, names, c.last, bn, c.features)
			}
		}
	}
	for _, bad := range []int{-1, 3} {
		c := DCGANConfig{Size: 28, Channels: 1, Width: 2, DExtra: bad}
		if _, err := NewDCGANDiscriminator(c, rng); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("DExtra %d", bad)) {
			t.Errorf("DExtra %d: error %v, want one naming it", bad, err)
		}
	}
	c := tiny
	c.Size, c.DExtra = 28, 2
	d := newDCGANDiscriminator(c, 1, rng)
	smooth(d.Blocks)
	first := d.Blocks[0].Conv.(*nn.Conv2d)
	last := d.Blocks[len(d.Blocks)-1].Conv.(*nn.Conv2d)
	gradCheck(t, rng.Normal(0, 1, 4, 1, 28, 28), []probe{{&first.Weight, true}, {&last.Weight, true}, {&d.Head.Weight, false}}, d.Forward, checkOpts(7))
}

// TestDCGANGExtra checks the up-samplings GExtra adds to G below the base
// side: the projection's size (the side halved, rounded up, the channels
// doubled), each block's kernel (k3 where the side grows from 4 to 7), the
// output shape, that GExtra 0 leaves G as it was, the error for an
// out-of-range count, and gradients through the extra blocks against
// finite differences.
func TestDCGANGExtra(t *testing.T) {
	rng := tensor.NewRNG(6)
	for _, c := range []struct {
		size, extra int
		project     int      // the projection's outputs: c0 * b * b
		convs       []string // the blocks' transposed convolutions
	}{
		{28, 0, 8 * 7 * 7, []string{"[8 4 4 4]"}},
		{28, 1, 16 * 4 * 4, []string{"[16 8 3 3]", "[8 4 4 4]"}},
		{28, 2, 32 * 2 * 2, []string{"[32 16 4 4]", "[16 8 3 3]", "[8 4 4 4]"}},
		{32, 2, 64 * 1 * 1, []string{"[64 32 4 4]", "[32 16 4 4]", "[16 8 4 4]", "[8 4 4 4]"}},
	} {
		gc := DCGANConfig{Size: c.size, Channels: 3, Width: 4, ZDim: 5, GExtra: c.extra}
		g, err := NewDCGANGenerator(gc, rng)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Project.Weight.Shape(); !slices.Equal(got, []int{c.project, 5}) {
			t.Errorf("%d/%d: projection %v, want [%d 5]", c.size, c.extra, got, c.project)
		}
		var convs []string
		for _, b := range g.Blocks {
			convs = append(convs, fmt.Sprint(b.Conv.(*nn.ConvTranspose2d).Weight.Shape()))
		}
		if !slices.Equal(convs, c.convs) {
			t.Errorf("%d/%d: blocks %v, want %v", c.size, c.extra, convs, c.convs)
		}
		if y := g.Forward(autograd.Const(rng.Normal(0, 1, 2, 5))); !slices.Equal(y.Shape(), []int{2, 3, c.size, c.size}) {
			t.Errorf("%d/%d: output %v, want [2 3 %d %d]", c.size, c.extra, y.Shape(), c.size, c.size)
		}
	}
	for _, bad := range []int{-1, 3} {
		c := DCGANConfig{Size: 28, Channels: 1, Width: 2, ZDim: 3, GExtra: bad}
		if _, err := NewDCGANGenerator(c, rng); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("GExtra %d", bad)) {
			t.Errorf("GExtra %d: error %v, want one naming it", bad, err)
		}
	}
	c := tiny
	c.Size, c.GExtra = 28, 2
	g := newDCGANGenerator(c, rng)
	smooth(g.Blocks)
	g.ProjectAct = nn.Softplus{}
	first := g.Blocks[0].Conv.(*nn.ConvTranspose2d)
	odd := g.Blocks[1].Conv.(*nn.ConvTranspose2d)
	gradCheck(t, rng.Normal(0, 1, 4, 3), []probe{{&g.Project.Weight, true}, {&first.Weight, true}, {&odd.Weight, true}}, g.Forward, checkOpts(8))
}

// TestDCGANChannelBN checks G's projection normalised per channel: the
// norm's state has C0 entries, in training mode each of the C0 maps leaves
// it with mean beta over the batch and positions (where the per-feature
// norm fixes each position's mean instead), and gradients through it match
// finite differences.
func TestDCGANChannelBN(t *testing.T) {
	rng := tensor.NewRNG(9)
	c := DCGANConfig{Size: 28, Channels: 1, Width: 4, ZDim: 5, ChannelBN: true}
	g, err := NewDCGANGenerator(c, rng)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.ProjectBN.Weight.Shape(); !slices.Equal(got, []int{8}) || !g.ProjectBN.TwoD() {
		t.Fatalf("projection norm over %v (2-D %v), want [8] channels", got, g.ProjectBN.TwoD())
	}
	for i := range 8 {
		g.ProjectBN.Bias.Data().Data()[i] = float32(i)
	}
	var h *tensor.Tensor
	autograd.NoGrad(func() {
		x := g.ProjectBN.Forward(autograd.Reshape(g.Project.Forward(autograd.Const(rng.Normal(0, 1, 6, 5))), 6, 8, 7, 7))
		h = x.Data()
	})
	for ch := range 8 {
		var s float64
		for n := range 6 {
			for p := range 49 {
				s += float64(h.Data()[(n*8+ch)*49+p])
			}
		}
		if m := s / (6 * 49); math.Abs(m-float64(ch)) > 1e-4 {
			t.Errorf("channel %d: mean %g after the norm, want its bias %d", ch, m, ch)
		}
	}
	tc := tiny
	tc.ChannelBN = true
	tg := newDCGANGenerator(tc, rng)
	smooth(tg.Blocks)
	tg.ProjectAct = nn.Softplus{}
	gradCheck(t, rng.Normal(0, 1, 4, 3), []probe{{&tg.Project.Weight, true}, {&tg.ProjectBN.Weight, false}, {&tg.Out.Weight, true}}, tg.Forward, checkOpts(9))
}
