package gan

import (
	"math"
	"slices"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// handPack concatenates samples g*m .. g*m+m-1 of x [N, C, ...] along
// dimension 1, element by element: the oracle for Pack.
func handPack(x *tensor.Tensor, m int) *tensor.Tensor {
	s := x.Shape()
	n, c := s[0], s[1]
	inner := len(x.Data()) / (n * c)
	out := make([]float32, len(x.Data()))
	for g := 0; g < n/m; g++ {
		for j := 0; j < m; j++ {
			for ch := 0; ch < c; ch++ {
				for k := 0; k < inner; k++ {
					src := ((g*m+j)*c+ch)*inner + k
					dst := ((g*m*c)+(j*c+ch))*inner + k
					out[dst] = x.Data()[src]
				}
			}
		}
	}
	shape := append([]int{n / m, m * c}, s[2:]...)
	return tensor.FromSlice(out, shape...)
}

func TestPack(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		in   []int
		m    int
		want []int
	}{
		{[]int{6, 2}, 2, []int{3, 4}},
		{[]int{8, 2}, 4, []int{2, 8}},
		{[]int{6, 3, 4, 4}, 3, []int{2, 9, 4, 4}},
		{[]int{4, 1, 28, 28}, 2, []int{2, 2, 28, 28}},
		{[]int{5, 2}, 1, []int{5, 2}},
	} {
		x := rng.Normal(0, 1, tc.in...)
		got := Pack(ag.Const(x), tc.m).Data()
		if !slices.Equal(got.Shape(), tc.want) {
			t.Fatalf("Pack(%v, %d): shape %v, want %v", tc.in, tc.m, got.Shape(), tc.want)
		}
		want := handPack(x, max(tc.m, 1))
		for i, v := range want.Data() {
			if got.Data()[i] != v {
				t.Fatalf("Pack(%v, %d)[%d] = %v, hand-packed %v", tc.in, tc.m, i, got.Data()[i], v)
			}
		}
		if pt := PackTensor(x, tc.m); !slices.Equal(pt.Shape(), tc.want) || pt.Data()[len(pt.Data())-1] != want.Data()[len(want.Data())-1] {
			t.Fatalf("PackTensor(%v, %d): shape %v", tc.in, tc.m, pt.Shape())
		}
	}
}

func TestPackPanicsOnShape(t *testing.T) {
	for _, shape := range [][]int{{5, 2}, {7}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("Pack of %v in pairs did not panic", shape)
				}
			}()
			Pack(ag.Const(tensor.Zeros(shape...)), 2)
		}()
	}
}

// TestPackBackward checks that the gradient through Pack reaches every
// sample unpacked (finite differences through a packed linear critic).
func TestPackBackward(t *testing.T) {
	rng := tensor.NewRNG(2)
	d, err := models.NewMLP(models.MLPConfig{In: 6, Out: 1, Hidden: []int{5}, Act: "tanh"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := rng.Normal(0, 1, 6, 2)
	err = ag.GradCheck(func(in []*ag.Value) *ag.Value { return d.Forward(Pack(in[0], 3)) }, []*tensor.Tensor{x}, ag.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// recorder is a discriminator that keeps a copy of every batch it sees.
type recorder struct {
	nn.Layer
	seen []*tensor.Tensor
}

func (r *recorder) Forward(x *ag.Value) *ag.Value {
	r.seen = append(r.seen, x.Data().Clone())
	return r.Layer.Forward(x)
}

// TestUnconditionalPacksRealAndFakeApart checks what D sees with Pack 2:
// the real batch and the fake batch packed separately (every packed row all
// real or all fake), exactly the hand-packed batches, and a loss equal to
// the objective on the same network's logits of the hand-packed batches.
func TestUnconditionalPacksRealAndFakeApart(t *testing.T) {
	const batch, m = 8, 2
	rng := tensor.NewRNG(3)
	g, err := models.NewMLP(models.MLPConfig{In: 3, Out: 2, Hidden: []int{4}, Act: "tanh"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	dnet, err := models.NewMLP(models.MLPConfig{In: 2 * m, Out: 1, Hidden: []int{6}, Act: "leaky_relu"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	d := &recorder{Layer: dnet}
	// Real points are at least 100 away from the origin; the generator's
	// tanh layer keeps fakes within a few units of it.
	var realBatch *tensor.Tensor
	real := func(n int) *tensor.Tensor {
		realBatch = tensor.AddScalar(rng.Uniform(0, 1, n, 2), 100)
		return realBatch.Clone()
	}
	obj, err := LookupObjective("ns", 0)
	if err != nil {
		t.Fatal(err)
	}
	u := &Unconditional{G: g, D: d, Objective: obj, Prior: Prior{Kind: "normal", Dim: 3}, Real: real, Batch: batch, RNG: tensor.NewRNG(4), Pack: m}
	game := tensor.NewRNG(4)
	terms := u.DiscriminatorTerms(0)
	var fake *tensor.Tensor
	ag.NoGrad(func() { fake = g.Forward(ag.Const(u.Prior.Sample(game, batch))).Data() })
	if len(d.seen) != 2 {
		t.Fatalf("D saw %d batches, want the real and the fake one", len(d.seen))
	}
	for k, want := range []*tensor.Tensor{handPack(realBatch, m), handPack(fake, m)} {
		got := d.seen[k]
		if !slices.Equal(got.Shape(), []int{batch / m, 2 * m}) {
			t.Fatalf("batch %d: D saw shape %v, want [%d %d]", k, got.Shape(), batch/m, 2*m)
		}
		for i, v := range got.Data() {
			if isReal := v >= 100; isReal != (k == 0) {
				t.Fatalf("batch %d, packed row %d mixes real and fake: %v", k, i/(2*m), got.Data())
			}
			if v != want.Data()[i] {
				t.Fatalf("batch %d: D saw %v, the hand-packed batch is %v", k, got.Data(), want.Data())
			}
		}
	}
	var want *tensor.Tensor
	ag.NoGrad(func() {
		want = obj.D(dnet.Forward(ag.Const(handPack(realBatch, m))), dnet.Forward(ag.Const(handPack(fake, m)))).Data()
	})
	if got := terms[0].Value.Data().Data()[0]; got != want.Data()[0] {
		t.Fatalf("D's loss %v, want %v from the hand-packed batches", got, want.Data()[0])
	}
	// G's update scores a packed fresh fake batch.
	d.seen = nil
	u.GeneratorTerms(0)
	if len(d.seen) != 1 || !slices.Equal(d.seen[0].Shape(), []int{batch / m, 2 * m}) {
		t.Fatalf("G's update: D saw %d batches, first %v", len(d.seen), d.seen)
	}
}

// TestPackedGradientPenalty checks that WGAN-GP's norm is taken over each
// packed group: with a linear critic w.x on groups of m points the gradient
// at every interpolate is w, so the penalty is lambda (|w| - 1)^2. Norms
// taken per sample (the group's parts w_j) would give another value.
func TestPackedGradientPenalty(t *testing.T) {
	const batch, m, lambda = 12, 3, 10
	rng := tensor.NewRNG(5)
	g, err := models.NewMLP(models.MLPConfig{In: 2, Out: 2, Hidden: []int{4}, Act: "relu"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	lin := nn.NewLinear(2*m, 1, rng)
	obj, err := LookupObjective("wgan", 0)
	if err != nil {
		t.Fatal(err)
	}
	u := &Unconditional{G: g, D: lin, Objective: obj, Prior: Prior{Kind: "normal", Dim: 2}, Batch: batch, RNG: rng, Pack: m,
		Penalty: Penalty{Kind: "gp", Weight: lambda}, Real: func(n int) *tensor.Tensor { return rng.Normal(3, 1, n, 2) }}
	terms := u.DiscriminatorTerms(0)
	if len(terms) != 2 || terms[1].Name != "gp" {
		t.Fatalf("terms %v", terms)
	}
	var sq float64
	for _, v := range lin.Weight.Data().Data() {
		sq += float64(v) * float64(v)
	}
	want := lambda * (math.Sqrt(sq) - 1) * (math.Sqrt(sq) - 1)
	if got := float64(terms[1].Value.Data().Data()[0]); math.Abs(got-want) > 1e-4*math.Max(1, want) {
		t.Fatalf("packed gp %v, want lambda (|w| - 1)^2 = %v", got, want)
	}
}
