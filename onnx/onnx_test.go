package onnx_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

// msg is a decoded protobuf message: each field number's values in order,
// a varint or fixed32 as its number, a length-delimited field as bytes.
type msg map[protowire.Number][]value

type value struct {
	n uint64
	b []byte
}

// decode parses b with protowire, failing the test on malformed input.
func decode(t *testing.T, b []byte) msg {
	t.Helper()
	m := msg{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v value
		switch typ {
		case protowire.VarintType:
			v.n, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v.n = uint64(x)
		case protowire.BytesType:
			v.b, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		m[num] = append(m[num], v)
	}
	return m
}

func (m msg) str(num protowire.Number) string {
	if len(m[num]) == 0 {
		return ""
	}
	return string(m[num][0].b)
}

func (m msg) ints(num protowire.Number) []int {
	var out []int
	for _, v := range m[num] {
		out = append(out, int(int64(v.n)))
	}
	return out
}

// build returns the family.Generator of config c after the sets, in
// evaluation mode, with its weights perturbed and batch-norm statistics of its own samples: 10
// training-mode passes from zero running means and variances bring them
// to about 0.65 of the batch's (so the evaluation-mode activations are of order 1,
// not all cut to zero by a ReLU, and a wrong graph shows), then each
// value is scaled by a random factor so the test sees them carried over.
func build(t *testing.T, sets []string, d family.Data) (family.Generator, *family.Model) {
	t.Helper()
	key := fmt.Sprint(sets, d)
	if m, ok := built[key]; ok {
		return m.Generator, m
	}
	m, _ := buildModel(t, sets, d)
	g, mod := m.Generator, m.GeneratorPlayer.Module
	rng := tensor.NewRNG(7)
	// Every weight moved off its initial value, so that, for instance,
	// the class gains (initially all 1) and biases (0) of conditional batch
	// norm differ between classes.
	perturb(mod, 1, rng)
	// The running statistics; spectral norm's vectors keep their values
	// (the passes update them too).
	var buffers []nn.Buffer
	for _, b := range mod.Buffers("") {
		if strings.HasSuffix(b.Name, "running_mean") || strings.HasSuffix(b.Name, "running_var") {
			buffers = append(buffers, b)
			clear(b.Tensor.Data())
		}
	}
	mod.SetTraining(true)
	req, _, _ := request(g, 8)
	for range 10 {
		if _, err := g.Generate(g.Prior().Sample(rng, 8), req); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range buffers {
		for i, v := range b.Tensor.Data() {
			b.Tensor.Data()[i] = v*float32(0.8+0.4*rng.Float64()) + 0.01
		}
	}
	mod.SetTraining(false)
	built[key] = m
	return g, m
}

// buildModel builds the model of the default config with sets applied,
// for data d, and closes its loader.
func buildModel(t *testing.T, sets []string, d family.Data) (*family.Model, config.Config) {
	t.Helper()
	c := config.Default()
	for _, kv := range sets {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if d.Size == 0 && d.Points == nil {
		mix := c.Mixture()
		d.Points = &mix
	}
	m, err := family.Build(c, d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Close != nil {
		m.Close()
	}
	return m, c
}

// perturb moves every parameter of mod off its initial value: each
// weight times scale times a factor in [0.75, 1.25), plus up to 0.025 either
// way, drawn from rng.
func perturb(mod nn.Module, scale float64, rng *tensor.RNG) {
	for _, p := range mod.Params("") {
		for i, v := range p.Value.Data().Data() {
			p.Value.Data().Data()[i] = v*float32(scale*(0.75+0.5*rng.Float64())) + float32(0.05*(rng.Float64()-0.5))
		}
	}
}

// built caches build's models by their sets and data: the tests only read
// them (and sample in evaluation mode), so each is built once.
var built = map[string]*family.Model{}

var image = family.Data{Channels: 1, Size: 28, Classes: 3}

// bn is the evaluation-mode batch norm: subtract the mean, times the
// inverse deviation, times the weight, plus the bias.
var bn = []string{"Sub", "Mul", "Mul", "Add"}

func ops(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

// dcganOps is a 28x28 DCGAN generator's graph: projection, batch norm,
// ReLU, reshape, one block (14x14), the output convolution and tanh.
var dcganOps = ops("Gemm", bn, "Relu", "Reshape", "ConvTranspose", bn, "Relu", "ConvTranspose", "Tanh", "Identity")

// tiny is a small DCGAN: width 4, 8 noise dimensions.
var tiny = []string{"model.width=4", "model.z_dim=8"}

// cases are the generators that export: each family, with its optional
// parts (batch norm in the perceptron, DCGAN's dense layer, a learnt label
// embedding), the node types expected, the inputs, and the output shape
// (-1: the symbolic batch).
var cases = []struct {
	name   string
	sets   []string
	d      family.Data
	ops    []string
	inputs []string
	out    []int
}{
	{"mlp", []string{"model.g_hidden=[16,16]", "model.g_batchnorm=true"}, family.Data{},
		ops("Gemm", bn, "Relu", "Gemm", bn, "Relu", "Gemm", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"mlp-leaky", []string{"model.g_hidden=[16]", "model.g_act=leaky_relu"}, family.Data{},
		ops("Gemm", "LeakyRelu", "Gemm", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"mlp-tanh", []string{"model.g_hidden=[16]", "model.g_act=tanh"}, family.Data{},
		ops("Gemm", "Tanh", "Gemm", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"mlp-elu", []string{"model.g_hidden=[16]", "model.g_act=elu"}, family.Data{},
		ops("Gemm", "Elu", "Gemm", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"mlp-softplus", []string{"model.g_hidden=[16]", "model.g_act=softplus"}, family.Data{},
		ops("Gemm", "Softplus", "Gemm", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"dcgan", append([]string{"model.kind=dcgan"}, tiny...), image, dcganOps, []string{"z"}, []int{-1, 1, 28, 28}},
	// G starting at 2x2 (two more transposed convolutions), and its
	// projection normalised per channel after the reshape.
	{"dcgan-gextra", append([]string{"model.kind=dcgan", "model.g_extra_layers=2"}, tiny...), image,
		ops("Gemm", bn, "Relu", "Reshape", "ConvTranspose", bn, "Relu", "ConvTranspose", bn, "Relu", dcganOps[7:]), []string{"z"}, []int{-1, 1, 28, 28}},
	{"dcgan-channel-bn", append([]string{"model.kind=dcgan", "model.project_bn=channel"}, tiny...), image,
		ops("Gemm", "Reshape", bn, "Relu", dcganOps[7:]), []string{"z"}, []int{-1, 1, 28, 28}},
	{"dcgan-dense", append([]string{"model.kind=dcgan", "model.dense=6"}, tiny...), image,
		ops("Gemm", bn, "Relu", dcganOps), []string{"z"}, []int{-1, 1, 28, 28}},
	{"cgan-onehot", append([]string{"model.kind=cgan"}, tiny...), image,
		ops("Gather", "Concat", dcganOps), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	{"cgan-embed", append([]string{"model.kind=cgan", "model.embed_dim=5"}, tiny...), image,
		ops("Gather", "Concat", dcganOps), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	{"acgan", append([]string{"model.kind=acgan"}, tiny...), image,
		ops("Gather", "Concat", dcganOps), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	// InfoGAN's defaults (one Cat(10), two continuous codes), and two
	// categorical codes with one continuous code and the dense layer.
	{"infogan", append([]string{"model.kind=infogan", "model.q_hidden=6"}, tiny...), image,
		ops("Gather", "Reshape", "Reshape", "Concat", dcganOps), []string{"z", "c1", "c2", "c3"}, []int{-1, 1, 28, 28}},
	{"infogan-codes", append([]string{"model.kind=infogan", "model.q_hidden=6", "model.cat_codes=[3,4]", "model.cont_codes=1", "model.dense=6"}, tiny...), image,
		ops("Gather", "Gather", "Reshape", "Concat", "Gemm", bn, "Relu", dcganOps), []string{"z", "c1", "c2", "c3"}, []int{-1, 1, 28, 28}},
	// The autoencoder families' decoders: the mlp net (tanh for vae and
	// ae, ReLU for aae, softplus for avb) and vae's conv net, then the
	// decoder's mean as images.
	{"vae", []string{"model.kind=vae", "model.z_dim=4", "model.hidden=[8]"}, image,
		ops("Gemm", "Tanh", "Gemm", sigmoidOps), []string{"z"}, []int{-1, 1, 28, 28}},
	{"vae-conv", []string{"model.kind=vae", "model.z_dim=4", "model.net=conv", "model.width=4"}, image,
		ops("Gemm", "Relu", "Reshape", "ConvTranspose", "Relu", "ConvTranspose", "Flatten", sigmoidOps), []string{"z"}, []int{-1, 1, 28, 28}},
	{"ae", []string{"model.kind=ae", "model.z_dim=4", "model.hidden=[8,6]"}, image,
		ops("Gemm", "Tanh", "Gemm", "Tanh", "Gemm", sigmoidOps), []string{"z"}, []int{-1, 1, 28, 28}},
	{"aae", []string{"model.kind=aae", "model.hidden=[8]", "model.d_hidden=[6]", "model.z_dim=3"}, image,
		ops("Gemm", "Relu", "Gemm", sigmoidOps), []string{"z"}, []int{-1, 1, 28, 28}},
	// aae's mixture and categorical priors: the code from the first z_dim
	// noise coordinates and the label (the petal's rotation, or the
	// one-hot category beside the style).
	{"aae-mixture", []string{"model.kind=aae", "model.hidden=[8]", "model.d_hidden=[6]", "model.z_dim=3", "model.classes=3", "model.prior=mixture"}, image,
		ops("Gather", "Gather", "Slice", "Mul", "Add", "Slice", "Mul", "Mul", "Mul", "Sub", "Mul", "Mul", "Add", "Slice", "Concat", "Gemm", "Relu", "Gemm", sigmoidOps),
		[]string{"z", "label"}, []int{-1, 1, 28, 28}},
	{"aae-categorical", []string{"model.kind=aae", "model.hidden=[8]", "model.d_hidden=[6]", "model.z_dim=2", "model.classes=3", "model.prior=categorical"}, image,
		ops("Gather", "Slice", "Concat", "Gemm", "Relu", "Gemm", sigmoidOps), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	{"avb", []string{"model.kind=avb", "model.hidden=[8]", "model.adv_hidden=[8]", "model.adv_features=4", "model.eps_dim=4", "model.proposal_samples=4"}, image,
		ops("Gemm", "Softplus", "Gemm", sigmoidOps), []string{"z"}, []int{-1, 1, 28, 28}},
	// BiGAN's and ALI's generator: two batch-normed layers, z skipping to
	// the second.
	{"bigan", []string{"model.kind=bigan", "model.width=4", "model.z_dim=8"}, image, biganOps, []string{"z"}, []int{-1, 1, 28, 28}},
	{"ali", []string{"model.kind=ali", "model.width=4", "model.z_dim=8"}, image, biganOps, []string{"z"}, []int{-1, 1, 28, 28}},
	// SN-GAN's ResNet generator (28x28: 7x7, two upsampling blocks), with
	// plain and with class-conditional batch norm.
	{"sngan", []string{"model.kind=sngan", "model.z_dim=8", "model.g_width=4", "model.d_width=4", "loss.name=hinge"}, image,
		ops("Gemm", "Reshape", gblock(bnPlain), gblock(bnPlain), "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity"), []string{"z"}, []int{-1, 1, 28, 28}},
	{"sngan-cond", []string{"model.kind=sngan", "model.z_dim=8", "model.g_width=4", "model.d_width=4", "model.conditional=true", "loss.name=hinge"}, image,
		ops("Gemm", "Reshape", gblock(bnCond), gblock(bnCond), "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity"), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	// BigGAN: z in chunks, the shared class embedding, batch norm
	// conditioned linearly on [shared, chunk]; self-attention after the
	// first block (the default) or none.
	{"biggan", []string{"model.kind=biggan", "model.g_width=4", "model.d_width=4", "model.z_dim=9", "model.shared_dim=4", "loss.name=hinge"}, image,
		ops("Gather", "Slice", "Gemm", "Reshape", bigBlock, attnOps, bigBlock, "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity"), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	{"biggan-noattn", []string{"model.kind=biggan", "model.g_width=4", "model.d_width=4", "model.z_dim=9", "model.shared_dim=4", "model.attention=false", "loss.name=hinge"}, image,
		ops("Gather", "Slice", "Gemm", "Reshape", bigBlock, bigBlock, "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity"), []string{"z", "label"}, []int{-1, 1, 28, 28}},
	// MIX+GAN: every component on the noise, the choice coordinate
	// compared with thresholds, the outputs merged by Where; 2-D
	// perceptrons (three components) and DCGAN generators (two).
	{"mixgan", []string{"model.kind=mixgan", "model.components=3", "model.g_hidden=[8]", "model.z_dim=4"}, family.Data{},
		ops("Slice", "Slice", "Reshape", "Gemm", "Relu", "Gemm", "Gemm", "Relu", "Gemm", "Gemm", "Relu", "Gemm",
			"Less", "Where", "Less", "GreaterOrEqual", "And", "Where", "Mul", "Add", "Identity"), []string{"z"}, []int{-1, 2}},
	{"mixgan-dcgan", []string{"model.kind=mixgan", "model.net=dcgan", "model.components=2", "model.width=4", "model.z_dim=8"}, image,
		ops("Slice", "Slice", "Reshape", dcganOps[:len(dcganOps)-1], dcganOps[:len(dcganOps)-1], "Less", "Where", "Identity"), []string{"z"}, []int{-1, 1, 28, 28}},
	{"sagan", []string{"model.kind=sagan", "model.z_dim=8", "model.g_width=8", "model.d_width=4", "loss.name=hinge"}, image,
		saganOps, []string{"z"}, []int{-1, 1, 28, 28}},
	{"sagan-cond", []string{"model.kind=sagan", "model.z_dim=8", "model.g_width=8", "model.d_width=4", "model.conditional=true", "loss.name=hinge"}, image,
		ops("Gemm", "Reshape", gblock(bnCond), attnOps, gblock(bnCond), "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity"), []string{"z", "label"}, []int{-1, 1, 28, 28}},
}

// sagan is SN-GAN's generator with spectral norm on every weight and
// self-attention after block 0: 1x1 convolutions f, g, h, the scores
// g^T f, softmax, h beta^T, gamma * o + x.
var (
	attnOps  = []string{"Conv", "Reshape", "Conv", "Reshape", "Conv", "Reshape", "Transpose", "MatMul", "Softmax", "Transpose", "MatMul", "Shape", "Reshape", "Mul", "Add"}
	saganOps = ops("Gemm", "Reshape", gblock(bnPlain), attnOps, gblock(bnPlain), "Sub", "Mul", "Mul", "Add", "Relu", "Conv", "Tanh", "Identity")
)

// bigBlock is a BigGAN block: the chunk joined to the shared embedding,
// then an SN-GAN block whose batch norms are modulated by linear maps of
// it.
var bigBlock = ops("Slice", "Concat", gblock([]string{"Sub", "Mul", "Gemm", "Add", "Gemm", "Reshape", "Mul", "Reshape", "Add"}))

// bnPlain and bnCond are an SN-GAN block's batch norms: plain (with its
// affine map), or without it and modulated by the label's gain and bias.
var (
	bnPlain = bn
	bnCond  = []string{"Sub", "Mul", "Gather", "Reshape", "Mul", "Gather", "Reshape", "Add"}
)

// gblock is an upsampling SN-GAN block with the given batch norm: the
// residual path, then the shortcut (upsampling, 1x1 convolution) and the
// sum.
func gblock(norm []string) []string {
	return ops(norm, "Relu", "Resize", "Conv", norm, "Relu", "Conv", "Resize", "Conv", "Add")
}

// sigmoidOps map a decoder's logits to images in [-1, 1]: sigmoid, times
// 2, minus 1, reshaped.
var sigmoidOps = []string{"Sigmoid", "Mul", "Add", "Reshape", "Identity"}

// biganOps: its batch norms have no affine weight and bias.
var biganOps = ops("Gemm", "Sub", "Mul", "Relu", "Gemm", "Gemm", "Add", "Sub", "Mul", "Relu", "Gemm", sigmoidOps)

// statePrefix is where a family's generator sits in its generator
// player's module, which holds the encoder too ("" for the whole module).
var statePrefix = map[string]string{"vae": "dec.", "ae": "dec.", "aae": "dec.", "avb": "dec.", "bigan": "g.", "ali": "g."}

// TestGenerator decodes the ModelProto written for each exporting family
// and checks its versions, inputs and outputs with the symbolic batch
// dimension, the node types in order, and that every initializer named
// after the generator's state holds that tensor's shape and values.
func TestGenerator(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, m := build(t, tc.sets, tc.d)
			kind := strings.Split(tc.name, "-")[0]
			b, err := onnx.Generator(g, kind)
			if err != nil {
				t.Fatal(err)
			}
			model := decode(t, b)
			if ir := model.ints(1); !slices.Equal(ir, []int{8}) {
				t.Errorf("ir_version %v, want [8]", ir)
			}
			if len(model[8]) != 1 {
				t.Fatalf("%d opset imports, want 1", len(model[8]))
			}
			opset := decode(t, model[8][0].b)
			if opset.str(1) != "" || !slices.Equal(opset.ints(2), []int{17}) {
				t.Errorf("opset import domain %q version %v, want the default domain at 17", opset.str(1), opset.ints(2))
			}
			graph := decode(t, model[7][0].b)
			var got []string
			produced := map[string]bool{}
			for _, nb := range graph[1] {
				node := decode(t, nb.b)
				got = append(got, node.str(4))
				for _, o := range node[2] {
					produced[string(o.b)] = true
				}
			}
			if !slices.Equal(got, tc.ops) {
				t.Errorf("node types\n%v\nwant\n%v", got, tc.ops)
			}
			if !produced["x"] {
				t.Error("no node writes the output x")
			}
			// Inputs: names, and the batch dimension symbolic ("N").
			var names []string
			for i, in := range graph[11] {
				vi := decode(t, in.b)
				names = append(names, vi.str(1))
				dims := shapeOf(t, vi)
				if dims[0] != "N" {
					t.Errorf("input %s: first dimension %q, want symbolic N", vi.str(1), dims[0])
				}
				if i == 0 && (len(dims) != 2 || dims[1] != itoa(g.Prior().Dim)) {
					t.Errorf("input z dims %v, want [N %d]", dims, g.Prior().Dim)
				}
			}
			if !slices.Equal(names, tc.inputs) {
				t.Errorf("inputs %v, want %v", names, tc.inputs)
			}
			checkCodes(t, g, model, graph)
			out := decode(t, graph[12][0].b)
			if want := shapeString(tc.out); out.str(1) != "x" || !slices.Equal(shapeOf(t, out), want) {
				t.Errorf("output %s %v, want x %v", out.str(1), shapeOf(t, out), want)
			}
			// Initializers: every one named after a state tensor holds it.
			state := map[string]*tensor.Tensor{}
			for _, s := range nn.State(m.GeneratorPlayer.Module) {
				if strings.HasPrefix(s.Name, statePrefix[kind]) {
					state[s.Name] = s.Tensor
				}
			}
			if len(state) == 0 {
				t.Fatalf("no state under %q", statePrefix[kind])
			}
			matched := 0
			for _, ib := range graph[5] {
				init := decode(t, ib.b)
				name := init.str(8)
				want, ok := state[name]
				if !ok {
					continue
				}
				matched++
				if init.ints(2)[0] != 1 {
					t.Errorf("%s: data type %v, want float (1)", name, init.ints(2))
				}
				dims := init.ints(1)
				if prod(dims) != want.Len() {
					t.Errorf("%s: dims %v for %d values", name, dims, want.Len())
				}
				// Weights keep their shape; batch-norm vectors [C] may be
				// [C, 1, 1], to broadcast over maps.
				bnMap := want.Dim() == 1 && slices.Equal(dims, []int{want.Len(), 1, 1})
				if !bnMap && !slices.Equal(dims, want.Shape()) {
					t.Errorf("%s: dims %v, want %v", name, dims, want.Shape())
				}
				raw := init[9][0].b
				for i, v := range want.Data() {
					if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != v {
						t.Fatalf("%s[%d] = %v, want %v", name, i, got, v)
					}
				}
			}
			// All weights appear by name but the running variances (written
			// as inverse deviations), spectral norm's weight_orig, weight_u
			// and weight_v (written as W / sigma under "weight") and a
			// mixture's logits (written as the choice's thresholds).
			wantMatched := 0
			for name := range state {
				if !strings.HasSuffix(name, "running_var") && !strings.HasSuffix(name, "weight_orig") && !strings.HasSuffix(name, "weight_u") && !strings.HasSuffix(name, "weight_v") && name != "logits" {
					wantMatched++
				}
			}
			if matched != wantMatched {
				t.Errorf("%d initializers named after state tensors, want %d", matched, wantMatched)
			}
		})
	}
}

// checkCodes checks a Coded generator's code inputs (categorical int64
// [N], continuous float [N], after z and named after the codes) and the
// metadata describing them; a generator without codes must have neither.
func checkCodes(t *testing.T, g family.Generator, model, graph msg) {
	t.Helper()
	meta := map[string]string{}
	for _, e := range model[14] {
		kv := decode(t, e.b)
		meta[kv.str(1)] = kv.str(2)
	}
	cg, ok := g.(family.Coded)
	if !ok {
		if _, has := meta["kallima.codes"]; has {
			t.Errorf("metadata kallima.codes %q for a generator without codes", meta["kallima.codes"])
		}
		return
	}
	var names []string
	for i, c := range cg.Codes() {
		names = append(names, c.Name)
		if 1+i >= len(graph[11]) {
			t.Fatalf("no input for code %s", c.Name)
		}
		vi := decode(t, graph[11][1+i].b)
		elem, want, kind := elemType(t, vi), 1, "continuous"
		if c.Categories > 0 {
			want, kind = 7, "categorical "+itoa(c.Categories)
		}
		if vi.str(1) != c.Name || elem != want || !slices.Equal(shapeOf(t, vi), []string{"N"}) {
			t.Errorf("input %d: %s of type %d, dims %v; want %s of type %d, dims [N]", 1+i, vi.str(1), elem, shapeOf(t, vi), c.Name, want)
		}
		if m := meta["kallima.code."+c.Name]; !strings.HasPrefix(m, kind) {
			t.Errorf("metadata kallima.code.%s = %q, want it to start %q", c.Name, m, kind)
		}
	}
	if got := meta["kallima.codes"]; got != strings.Join(names, ",") {
		t.Errorf("metadata kallima.codes = %q, want %q", got, strings.Join(names, ","))
	}
}

// elemType is a ValueInfoProto's tensor element type (1 float, 7 int64).
func elemType(t *testing.T, vi msg) int {
	t.Helper()
	typ := decode(t, vi[2][0].b)
	return decode(t, typ[1][0].b).ints(1)[0]
}

// stub is a generator of a family without an exporter (every registered
// family that draws from noise has one).
type stub struct{}

func (stub) Prior() gan.Prior { return gan.Prior{Kind: "normal", Dim: 2} }

func (stub) Generate(z *tensor.Tensor, _ family.Request) (*tensor.Tensor, error) { return z, nil }

// TestGeneratorRefusesOtherFamilies checks that a family without an
// exporter is an error naming it and the families that export, and that
// a model without a generator from noise (a translator) is an error.
func TestGeneratorRefusesOtherFamilies(t *testing.T) {
	_, err := onnx.Generator(stub{}, "newgan")
	if err == nil {
		t.Fatal("a generator without an exporter exported")
	}
	for _, want := range append([]string{"newgan", "does not export yet"}, onnx.Families...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := onnx.Generator(nil, "pix2pix"); err == nil || !strings.Contains(err.Error(), "pix2pix has no generator") {
		t.Errorf("no generator: error %v, want one saying model.kind pix2pix has none", err)
	}
}

// shapeOf returns a ValueInfoProto's dimensions: a dim_param's name or a
// dim_value's number.
func shapeOf(t *testing.T, vi msg) []string {
	t.Helper()
	typ := decode(t, vi[2][0].b)
	tt := decode(t, typ[1][0].b)
	shape := decode(t, tt[2][0].b)
	var dims []string
	for _, d := range shape[1] {
		dim := decode(t, d.b)
		if p := dim.str(2); p != "" {
			dims = append(dims, p)
		} else {
			dims = append(dims, itoa(dim.ints(1)[0]))
		}
	}
	return dims
}

// shapeString writes dims with -1 as the symbolic N.
func shapeString(dims []int) []string {
	var out []string
	for _, d := range dims {
		if d < 0 {
			out = append(out, "N")
		} else {
			out = append(out, itoa(d))
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func prod(d []int) int {
	n := 1
	for _, x := range d {
		n *= x
	}
	return n
}
