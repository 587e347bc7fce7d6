// Package onnx writes Kallima's generators and translators as ONNX models
// (IR version 8, opset 17), so they run outside Go: in onnxruntime, in a
// browser, or wherever ONNX loads. The protobuf messages are encoded by hand with
// google.golang.org/protobuf's wire format package against onnx.proto's
// field numbers (proto.go), so no generated code is needed.
//
// A generator maps noise "z" [N, ZDim] (and, for a class-conditional one,
// "label" int64 [N]; for InfoGAN, one input per latent code: "c1" int64
// [N] for a categorical code, float [N] for a continuous one) to "x":
// images [N, C, H, W] in [-1, 1] or points [N, D]; N is symbolic. Batch
// norm is written with its running statistics and spectral norm as the
// weight W / sigma (evaluation mode), as sampling uses them. A translator
// (Translator, translator.go) maps images "x" [N, C, H, W] (and, for
// StarGAN, target domains "domain" int64 [N]) to images "y". Each layer
// type has its own exporter (layer.go) and each network its walker; a
// family or layer that has none is an error naming it.
package onnx

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/aae"
	"github.com/kallima-gan/kallima/family/mixgan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Families lists the model kinds whose generators export.
var Families = []string{"mlp", "dcgan", "cgan", "acgan", "infogan", "vae", "ae", "aae", "avb", "bigan", "ali", "sngan", "sagan", "biggan", "mixgan"}

// Graph input and output names.
const (
	InputZ     = "z"
	InputLabel = "label"
	OutputX    = "x"
	// BatchDim is the symbolic batch dimension's name.
	BatchDim = "N"
)

// The generator networks a family.Generator exposes, by family:
// cgan's and acgan's (models.CondGenerator), infogan's (a DCGAN generator
// fed the noise and the encoded codes), dcgan's, and mlp's perceptron
// with the affine map back to data coordinates; the decoders of the
// autoencoder families (vae, ae, avb, aae with the normal prior), and
// BiGAN's and ALI's generator.
type (
	decoderNet interface {
		// Decoder returns the network from z [N, ZDim] to per-pixel logits
		// [N, C*H*W] (samples are 2 sigmoid(logits) - 1, as images), its
		// state names' prefix, or an error for a model whose generator is
		// more than the decoder.
		Decoder() (nn.Layer, string, error)
	}
	aaeNet interface {
		CodePrior() (kind string, dim, classes int)
	}
	biganNet interface {
		Module() *models.BiGANGenerator
	}
	snganNet interface {
		Module() *models.SNGANGenerator
	}
	bigganNet interface {
		Module() *models.BigGANGenerator
	}
	condNet interface {
		Module() *models.CondGenerator
	}
	codedNet interface {
		family.Coded
		Module() *models.DCGANGenerator
	}
	dcganNet interface {
		Module() *models.DCGANGenerator
	}
	mlpNet interface {
		Module() nn.Layer
		Standardisation() (mean []float64, std float64)
	}
)

// Generator returns the ONNX model (an encoded ModelProto) of g, the
// generator of a model of kind kind (model.kind, for messages and the
// model's metadata), with the weights g holds now; load the weights
// (pipeline.LoadSampler) first. It returns an error naming the kind for a
// generator whose family does not export yet, and naming the layer for a
// layer type without an exporter.
func Generator(g family.Generator, kind string) ([]byte, error) {
	if g == nil {
		return nil, fmt.Errorf("onnx: model.kind %s has no generator from noise", kind)
	}
	zdim := g.Prior().Dim
	gr := newGraph()
	gr.input(InputZ, dataFloat, []int64{-1, int64(zdim)}, BatchDim)
	meta := [][2]string{{"kallima.kind", kind}, {"kallima.zdim", strconv.Itoa(zdim)}}
	shape, err := outputShape(g)
	if err != nil {
		return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
	}
	var x string
	switch n := g.(type) {
	case condNet:
		cg, ok := g.(family.Conditional)
		if !ok {
			return nil, fmt.Errorf("onnx: model.kind %s: a conditional network without a class count", kind)
		}
		gr.input(InputLabel, dataInt64, []int64{-1}, BatchDim)
		meta = append(meta, [2]string{"kallima.classes", strconv.Itoa(cg.Classes())})
		x, err = condGenerator(gr, n.Module(), cg.Classes(), InputZ, InputLabel)
	case snganNet:
		s := n.Module()
		label := ""
		if s.Classes() > 0 {
			label = InputLabel
			gr.input(InputLabel, dataInt64, []int64{-1}, BatchDim)
			meta = append(meta, [2]string{"kallima.classes", strconv.Itoa(s.Classes())})
		}
		x, err = snganGenerator(gr, s, InputZ, label)
	case bigganNet:
		b := n.Module()
		gr.input(InputLabel, dataInt64, []int64{-1}, BatchDim)
		meta = append(meta, [2]string{"kallima.classes", strconv.Itoa(b.Classes())})
		x, err = bigganGenerator(gr, b, InputZ, InputLabel)
	case *mixgan.Generator:
		x, err = mixtureGenerator(gr, n, InputZ, shape)
	case codedNet: // before dcganNet, which it also satisfies
		var codes [][2]string
		x, codes, err = codedGenerator(gr, n, InputZ)
		meta = append(meta, codes...)
	case dcganNet:
		x, err = dcganGenerator(gr, n.Module(), "", InputZ)
	case decoderNet:
		var (
			net    nn.Layer
			prefix string
		)
		if net, prefix, err = n.Decoder(); err != nil {
			return nil, fmt.Errorf("onnx: model.kind %s does not export: %w", kind, err)
		}
		code := InputZ
		if p, ok := n.(aaeNet); ok {
			if prior, dim, classes := p.CodePrior(); prior != "normal" {
				gr.input(InputLabel, dataInt64, []int64{-1}, BatchDim)
				meta = append(meta, [2]string{"kallima.classes", strconv.Itoa(classes)})
				if code, err = aaeCode(gr, prior, dim, classes, InputZ, InputLabel); err != nil {
					return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
				}
			}
		}
		if x, err = layer(gr, net, prefix, code); err == nil {
			x = sigmoidImages(gr, x, shape)
		}
	case biganNet:
		x, err = biganGenerator(gr, n.Module(), "g", InputZ, shape)
	case mlpNet:
		x, err = layer(gr, n.Module(), "", InputZ)
		if err == nil {
			mean, std := n.Standardisation()
			x = unstandardise(gr, x, mean, std)
		}
	default:
		return nil, fmt.Errorf("onnx: model.kind %s does not export yet (kinds that do: %s)", kind, strings.Join(Families, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
	}
	gr.nodeTo("Identity", []string{x}, OutputX)
	gr.output(OutputX, dataFloat, shape, BatchDim)
	return gr.model("kallima_"+kind+"_generator", "1", "A Kallima generator: noise z (and a class label, or latent codes) to samples x.", meta), nil
}

// outputShape runs g on one zero noise vector (label 0) to learn the
// shape of a sample; its first dimension is the batch's.
func outputShape(g family.Generator) ([]int64, error) {
	req := family.Request{}
	if _, ok := g.(family.Conditional); ok {
		req.Labels = []int{0}
	}
	out, err := g.Generate(tensor.New(1, g.Prior().Dim), req)
	if err != nil {
		return nil, fmt.Errorf("probing the output shape: %w", err)
	}
	return int64s(out.Shape()), nil
}

// condGenerator writes models.CondGenerator: the label's code, a row of
// the learnt embedding or of the identity (one-hot), gathered by label,
// concatenated to z, then the DCGAN generator under "net".
func condGenerator(g *graph, c *models.CondGenerator, classes int, z, label string) (string, error) {
	var table string
	if c.Embed != nil {
		table = weight(g, "embed", c.Embed.Weight, c.Embed.SN)
	} else {
		table = oneHot(g, "one_hot", classes)
	}
	code := g.node("Gather", []string{table, label}, intAttr("axis", 0))
	x := g.node("Concat", []string{z, code}, intAttr("axis", 1))
	return dcganGenerator(g, c.Net, "net", x)
}

// oneHot adds the identity matrix [k, k] as an initializer: Gather of its
// rows by index is the one-hot code.
func oneHot(g *graph, name string, k int) string {
	eye := make([]float32, k*k)
	for i := range k {
		eye[i*k+i] = 1
	}
	return g.float(name, eye, k, k)
}

// codedGenerator writes InfoGAN's generator: one graph input per latent
// code, named after it (a categorical code's category, int64 [N], gathered
// from the identity as its one-hot row; a continuous code's value, float
// [N], reshaped to a column), concatenated after z in Codes order, which
// is G's input layout (gan.LatentCodes.Input: the categorical codes
// one-hot, then the continuous ones), then the DCGAN generator. It returns
// the metadata entries describing the codes. Unlike Generate, the graph
// draws no code a caller leaves out: every code input is required.
func codedGenerator(g *graph, c codedNet, z string) (string, [][2]string, error) {
	parts := []string{z}
	var names []string
	var meta [][2]string
	width, cont := c.Prior().Dim, false
	for _, code := range c.Codes() {
		names = append(names, code.Name)
		if code.Categories > 0 {
			if cont {
				return "", nil, fmt.Errorf("code %s: a categorical code after a continuous one (G's input has the categorical codes first)", code.Name)
			}
			g.input(code.Name, dataInt64, []int64{-1}, BatchDim)
			table := oneHot(g, code.Name+"_one_hot", code.Categories)
			parts = append(parts, g.node("Gather", []string{table, code.Name}, intAttr("axis", 0)))
			meta = append(meta, [2]string{"kallima.code." + code.Name, fmt.Sprintf("categorical %d (int64 category 0 to %d)", code.Categories, code.Categories-1)})
			width += code.Categories
			continue
		}
		cont = true
		g.input(code.Name, dataFloat, []int64{-1}, BatchDim)
		column := g.int64s(code.Name+"_shape", -1, 1)
		parts = append(parts, g.node("Reshape", []string{code.Name, column}))
		meta = append(meta, [2]string{"kallima.code." + code.Name, fmt.Sprintf("continuous (float, prior U(-1, 1), requests in [%g, %g])", code.Lo, code.Hi)})
		width++
	}
	d := c.Module()
	in := d.Project.Weight.Shape()[1]
	if d.Dense != nil {
		in = d.Dense.Conv.Params("")[0].Value.Shape()[1]
	}
	if in != width {
		return "", nil, fmt.Errorf("generator input width %d, want %d noise dimensions and codes %s", in, width, strings.Join(names, ", "))
	}
	meta = append([][2]string{{"kallima.codes", strings.Join(names, ",")}}, meta...)
	x, err := dcganGenerator(g, d, "", g.node("Concat", parts, intAttr("axis", 1)))
	return x, meta, err
}

// dcganGenerator writes models.DCGANGenerator under prefix: the optional
// dense block, the projection with its batch norm and ReLU, the reshape to
// [N, C0, b, b] (before the norm when it is per channel), the blocks, and
// the output transposed convolution and tanh.
func dcganGenerator(g *graph, d *models.DCGANGenerator, prefix, x string) (string, error) {
	var err error
	if d.Dense != nil {
		if x, err = layer(g, d.Dense.Conv, nn.Join(prefix, "dense"), x); err != nil {
			return "", err
		}
		if d.Dense.BN != nil {
			x = batchNorm(g, d.Dense.BN, nn.Join(prefix, "dense_bn"), x)
		}
		if x, err = layer(g, d.Dense.Act, prefix, x); err != nil {
			return "", err
		}
	}
	if x, err = linear(g, d.Project, nn.Join(prefix, "project"), x); err != nil {
		return "", err
	}
	// The norm and ReLU follow the reshape when the norm is per channel
	// (models.DCGANConfig.ChannelBN), else they precede it.
	normAct := func(x string) (string, error) {
		return layer(g, d.ProjectAct, prefix, batchNorm(g, d.ProjectBN, nn.Join(prefix, "project_bn"), x))
	}
	if !d.ProjectBN.TwoD() {
		if x, err = normAct(x); err != nil {
			return "", err
		}
	}
	// C0 is the first transposed convolution's input channels (its
	// weight is [C0, out, k, k]); the projection's width is C0 * b * b.
	c0 := d.Out.Weight.Shape()[0]
	if len(d.Blocks) > 0 {
		c0 = d.Blocks[0].Conv.Params("")[0].Value.Shape()[0]
	}
	side := int(math.Round(math.Sqrt(float64(d.Project.Weight.Shape()[0] / c0))))
	if c0*side*side != d.Project.Weight.Shape()[0] {
		return "", fmt.Errorf("%s: projection width %d is not %d channels of a square map", nn.Join(prefix, "project"), d.Project.Weight.Shape()[0], c0)
	}
	shape := g.int64s(nn.Join(prefix, "project_shape"), -1, int64(c0), int64(side), int64(side))
	x = g.node("Reshape", []string{x, shape})
	if d.ProjectBN.TwoD() {
		if x, err = normAct(x); err != nil {
			return "", err
		}
	}
	for i, b := range d.Blocks {
		if x, err = convBlock(g, b, nn.Join(prefix, "blocks."+strconv.Itoa(i)), x); err != nil {
			return "", err
		}
	}
	if x, err = convTranspose(g, d.Out, nn.Join(prefix, "out"), x); err != nil {
		return "", err
	}
	return g.node("Tanh", []string{x}), nil
}

// aaeCode writes an aae's code from the noise z [N, dim + 1] and a class
// per row (the graph takes the class as an input, like a cgan's label; z's
// last coordinate, which picks the class in Kallima's sampler when no
// label is given, is unused): with e = z[:, :dim], the categorical prior's
// code is [one-hot label, e]; the mixture's is e with its first two
// coordinates placed in the label's petal, (c r - s t, s r + c t) for
// r = MixtureRadius + MixtureRadialStd e_0, t = MixtureTangentStd e_1 and
// (c, s) the label's direction, then e's other coordinates.
func aaeCode(g *graph, prior string, dim, classes int, z, label string) (string, error) {
	axis := g.int64s("code_axis", 1)
	slice := func(name string, from, to int) string {
		return g.node("Slice", []string{z, g.int64s(name+"_start", int64(from)), g.int64s(name+"_end", int64(to)), axis})
	}
	switch prior {
	case "categorical":
		hot := g.node("Gather", []string{oneHot(g, "one_hot", classes), label}, intAttr("axis", 0))
		return g.node("Concat", []string{hot, slice("style", 0, dim)}, intAttr("axis", 1)), nil
	case "mixture":
		if dim < 2 {
			return "", fmt.Errorf("the mixture prior needs z_dim 2 or more, not %d", dim)
		}
		cos, sin := make([]float32, classes), make([]float32, classes)
		for k := range classes {
			th := 2 * math.Pi * float64(k) / float64(classes)
			cos[k], sin[k] = float32(math.Cos(th)), float32(math.Sin(th))
		}
		c := g.node("Gather", []string{g.float("petal_cos", cos, classes, 1), label}, intAttr("axis", 0))
		s := g.node("Gather", []string{g.float("petal_sin", sin, classes, 1), label}, intAttr("axis", 0))
		r := g.node("Mul", []string{slice("radial", 0, 1), g.float("radial_std", []float32{aae.MixtureRadialStd}, 1)})
		r = g.node("Add", []string{r, g.float("radius", []float32{aae.MixtureRadius}, 1)})
		t := g.node("Mul", []string{slice("tangent", 1, 2), g.float("tangent_std", []float32{aae.MixtureTangentStd}, 1)})
		x0 := g.node("Sub", []string{g.node("Mul", []string{c, r}), g.node("Mul", []string{s, t})})
		x1 := g.node("Add", []string{g.node("Mul", []string{s, r}), g.node("Mul", []string{c, t})})
		parts := []string{x0, x1}
		if dim > 2 {
			parts = append(parts, slice("rest", 2, dim))
		}
		return g.node("Concat", parts, intAttr("axis", 1)), nil
	}
	return "", fmt.Errorf("aae prior %q does not export yet", prior)
}

// sigmoidImages maps per-pixel logits [N, C*H*W] to images [N, C, H, W]
// (shape, its first dimension the batch's) in [-1, 1]: sigmoid, times 2,
// plus -1, in that order, as the autoencoder families and BiGAN compute
// the decoder's mean.
func sigmoidImages(g *graph, x string, shape []int64) string {
	x = g.node("Sigmoid", []string{x})
	x = g.node("Mul", []string{x, g.float("two", []float32{2}, 1)})
	x = g.node("Add", []string{x, g.float("minus_one", []float32{-1}, 1)})
	dims := append([]int64{-1}, shape[1:]...)
	return g.node("Reshape", []string{x, g.int64s("image_shape", dims...)})
}

// biganGenerator writes models.BiGANGenerator under prefix:
// h = ReLU(BN1(FC1 z)), h = ReLU(BN2(FC2 h + Z2 z)), then the output
// layer's logits as images (sigmoidImages).
func biganGenerator(g *graph, b *models.BiGANGenerator, prefix, z string, shape []int64) (string, error) {
	h, err := linear(g, b.FC1, nn.Join(prefix, "fc1"), z)
	if err != nil {
		return "", err
	}
	h = g.node("Relu", []string{batchNorm(g, b.BN1, nn.Join(prefix, "bn1"), h)})
	if h, err = linear(g, b.FC2, nn.Join(prefix, "fc2"), h); err != nil {
		return "", err
	}
	skip, err := linear(g, b.Z2, nn.Join(prefix, "z2"), z)
	if err != nil {
		return "", err
	}
	h = g.node("Add", []string{h, skip})
	h = g.node("Relu", []string{batchNorm(g, b.BN2, nn.Join(prefix, "bn2"), h)})
	if h, err = linear(g, b.Out, nn.Join(prefix, "out"), h); err != nil {
		return "", err
	}
	return sigmoidImages(g, h, shape), nil
}

// snganGenerator writes models.SNGANGenerator (sngan's, and sagan's with
// self-attention after block AttnAt and spectral norm on every weight):
// the projection l1 reshaped to [N, width, base, base], the residual
// blocks, batch norm, ReLU, the output convolution and tanh. label is the
// class input of a conditional generator ("" for none).
func snganGenerator(g *graph, s *models.SNGANGenerator, z, label string) (string, error) {
	x, err := linear(g, s.L1, "l1", z)
	if err != nil {
		return "", err
	}
	width, rows := s.BOut.RunningMean.Len(), s.L1.Weight.Shape()[0]
	base := int(math.Round(math.Sqrt(float64(rows / width))))
	if width*base*base != rows {
		return "", fmt.Errorf("l1: width %d is not %d channels of a square map", rows, width)
	}
	x = g.node("Reshape", []string{x, g.int64s("l1_shape", -1, int64(width), int64(base), int64(base))})
	for i, b := range s.Blocks {
		prefix := "blocks." + strconv.Itoa(i)
		norm := func(m nn.Module, name string) func(string) (string, error) {
			return func(h string) (string, error) { return classNorm(g, m, nn.Join(prefix, name), h, label) }
		}
		if x, err = resBlock(g, prefix, x, norm(b.B1, "b1"), norm(b.B2, "b2"), b.C1, b.C2, b.Shortcut, b.Upsample); err != nil {
			return "", err
		}
		if s.Attn != nil && i == s.AttnAt {
			if x, err = selfAttention(g, s.Attn, "attn", x); err != nil {
				return "", err
			}
		}
	}
	return imageHead(g, s.BOut, s.COut, x)
}

// imageHead is the ResNet generators' output: batch norm, ReLU, the
// output convolution (b_out, c_out) and tanh.
func imageHead(g *graph, bn *nn.BatchNorm, out *nn.Conv2d, x string) (string, error) {
	x = g.node("Relu", []string{batchNorm(g, bn, "b_out", x)})
	x, err := conv(g, out, "c_out", x)
	if err != nil {
		return "", err
	}
	return g.node("Tanh", []string{x}), nil
}

// bigganGenerator writes models.BigGANGenerator: z split into chunks
// (Slice), the label's row of the shared embedding, the projection of the
// first chunk reshaped to [N, width, base, base], the blocks with their
// batch norms conditioned on [shared, chunk i+1], the optional
// self-attention, and the output as SN-GAN's.
func bigganGenerator(g *graph, b *models.BigGANGenerator, z, label string) (string, error) {
	chunks := len(b.Blocks) + 1
	zdim := b.ZDim()
	if zdim%chunks != 0 {
		return "", fmt.Errorf("z_dim %d does not split into %d chunks", zdim, chunks)
	}
	size := int64(zdim / chunks)
	axis := g.int64s("chunk_axis", 1)
	chunk := func(i int) string {
		return g.node("Slice", []string{z, g.int64s("chunk_start", int64(i)*size), g.int64s("chunk_end", int64(i+1)*size), axis})
	}
	shared := g.node("Gather", []string{weight(g, "shared", b.Shared.Weight, b.Shared.SN), label}, intAttr("axis", 0))
	x, err := linear(g, b.L1, "l1", chunk(0))
	if err != nil {
		return "", err
	}
	width, rows := b.BOut.RunningMean.Len(), b.L1.Weight.Shape()[0]
	base := int(math.Round(math.Sqrt(float64(rows / width))))
	if width*base*base != rows {
		return "", fmt.Errorf("l1: width %d is not %d channels of a square map", rows, width)
	}
	x = g.node("Reshape", []string{x, g.int64s("l1_shape", -1, int64(width), int64(base), int64(base))})
	for i, blk := range b.Blocks {
		prefix := "blocks." + strconv.Itoa(i)
		v := g.node("Concat", []string{shared, chunk(i + 1)}, intAttr("axis", 1))
		norm := func(n *nn.LinearCondBatchNorm2d, name string) func(string) (string, error) {
			return func(h string) (string, error) { return linearCondBatchNorm(g, n, nn.Join(prefix, name), h, v) }
		}
		if x, err = resBlock(g, prefix, x, norm(blk.B1, "b1"), norm(blk.B2, "b2"), blk.C1, blk.C2, blk.Shortcut, blk.Upsample); err != nil {
			return "", err
		}
		if b.Attn != nil && i == b.AttnAt {
			if x, err = selfAttention(g, b.Attn, "attn", x); err != nil {
				return "", err
			}
		}
	}
	return imageHead(g, b.BOut, b.COut, x)
}

// resBlock writes an SN-GAN (or BigGAN) generator block under prefix:
// Conv2(ReLU(B2(Conv1(Up(ReLU(B1(x))))))) + Shortcut(Up(x)), with the
// block's batch norms norm1 and norm2, Up nearest upsampling by 2 when up,
// and shortcut nil for the identity.
func resBlock(g *graph, prefix, x string, norm1, norm2 func(string) (string, error), c1, c2, shortcut *nn.Conv2d, up bool) (string, error) {
	upsampled := func(v string) string {
		if up {
			return upsample(g, v, 2)
		}
		return v
	}
	h, err := norm1(x)
	if err != nil {
		return "", err
	}
	if h, err = conv(g, c1, nn.Join(prefix, "c1"), upsampled(g.node("Relu", []string{h}))); err != nil {
		return "", err
	}
	if h, err = norm2(h); err != nil {
		return "", err
	}
	if h, err = conv(g, c2, nn.Join(prefix, "c2"), g.node("Relu", []string{h})); err != nil {
		return "", err
	}
	sc := upsampled(x)
	if shortcut != nil {
		if sc, err = conv(g, shortcut, nn.Join(prefix, "c_sc"), sc); err != nil {
			return "", err
		}
	}
	return g.node("Add", []string{h, sc}), nil
}

// classNorm writes a generator block's batch norm: plain, or conditional
// on the label input.
func classNorm(g *graph, m nn.Module, prefix, x, label string) (string, error) {
	switch n := m.(type) {
	case *nn.CondBatchNorm2d:
		if label == "" {
			return "", fmt.Errorf("layer %s: conditional batch norm in a generator without classes", prefix)
		}
		return condBatchNorm(g, n, prefix, x, label), nil
	case interface{ Plain() *nn.BatchNorm }:
		return batchNorm(g, n.Plain(), prefix, x), nil
	}
	return "", fmt.Errorf("layer %s: norm %T does not export yet", prefix, m)
}

// mixtureGenerator writes MIX+GAN's mixture (mixgan.Generator): every
// component network on the first Dim-1 noise coordinates, and per row the
// output of the component the last coordinate v chooses. mixgan chooses
// the first i with F(v) < w_0 + ... + w_i (F the prior's CDF, in float64);
// as F is monotone that is v < T_i, T_i the smallest float32 with
// F(T_i) >= w_0 + ... + w_i (choiceThresholds), so the graph compares v
// with float32 constants and chooses exactly as Kallima does. Component k
// is chosen for T_{k-1} <= v < T_k; the last component with a positive
// weight, for v >= T_{k-1} (mixgan's fallback when rounding leaves the
// total short). The outputs are merged with Where, the last positive
// component's as the default; a 2-D mixture's points are then mapped back
// to data coordinates.
func mixtureGenerator(g *graph, m *mixgan.Generator, z string, shape []int64) (string, error) {
	d := int64(m.Noise.Dim)
	axis := g.int64s("choice_axis", 1)
	noise := g.node("Slice", []string{z, g.int64s("noise_start", 0), g.int64s("noise_end", d), axis})
	v := g.node("Slice", []string{z, g.int64s("choice_start", d), g.int64s("choice_end", d+1), axis})
	// v [N, 1], broadcast against each row's sample.
	cshape := make([]int64, len(shape))
	for i := range cshape {
		cshape[i] = 1
	}
	cshape[0] = -1
	v = g.node("Reshape", []string{v, g.int64s("choice_shape", cshape...)})
	w := m.G.WeightValues()
	t, last := choiceThresholds(w, m.Noise.Kind)
	outs := make([]string, len(m.G.Nets))
	for k, net := range m.G.Nets {
		if w[k] <= 0 && k != last {
			continue // never chosen
		}
		prefix := strconv.Itoa(k)
		var err error
		switch n := net.(type) {
		case *models.DCGANGenerator:
			outs[k], err = dcganGenerator(g, n, prefix, noise)
		default:
			outs[k], err = layer(g, n, prefix, noise)
		}
		if err != nil {
			return "", err
		}
	}
	x := outs[last]
	for k := range m.G.Nets {
		if k == last || outs[k] == "" {
			continue
		}
		var cond string
		if k < len(t) && !math.IsInf(float64(t[k]), 1) {
			cond = g.node("Less", []string{v, g.float("choice_below", []float32{t[k]}, 1)})
		}
		if k > 0 {
			above := g.node("GreaterOrEqual", []string{v, g.float("choice_from", []float32{t[k-1]}, 1)})
			if cond == "" {
				cond = above
			} else {
				cond = g.node("And", []string{above, cond})
			}
		}
		if cond == "" {
			return "", fmt.Errorf("component %d: no bound on its choice", k)
		}
		x = g.node("Where", []string{cond, outs[k], x})
	}
	if m.Std != 0 {
		x = unstandardise(g, x, m.Mean, m.Std)
	}
	return x, nil
}

// choiceThresholds returns, for the cumulative weights c_i = w_0 + ... +
// w_i, the smallest float32 T_i with mixgan.ChoiceUniform(T_i, kind) >=
// c_i (+Inf when no float32 reaches it), and the last component with a
// positive weight. mixgan.Choose picks the first i with u < c_i, which for
// u = ChoiceUniform(v) is the first i with v < T_i.
func choiceThresholds(w []float64, kind string) ([]float32, int) {
	t := make([]float32, len(w))
	last := len(w) - 1
	var cum float64
	for i, wi := range w {
		cum += wi
		if wi > 0 {
			last = i
		}
		t[i] = smallestReaching(cum, kind)
	}
	return t, last
}

// smallestReaching is the smallest finite float32 v with
// ChoiceUniform(v) >= c, by bisection over float32s in order (ChoiceUniform
// is non-decreasing), or +Inf if none.
func smallestReaching(c float64, kind string) float32 {
	// order maps float32s to uint32s in the same order; from undoes it.
	order := func(f float32) uint32 {
		b := math.Float32bits(f)
		if b>>31 == 1 {
			return ^b
		}
		return b | 1<<31
	}
	from := func(k uint32) float32 {
		if k>>31 == 1 {
			return math.Float32frombits(k &^ (1 << 31))
		}
		return math.Float32frombits(^k)
	}
	reaches := func(k uint32) bool { return mixgan.ChoiceUniform(float64(from(k)), kind) >= c }
	lo, hi := order(-math.MaxFloat32), order(math.MaxFloat32)
	if !reaches(hi) {
		return float32(math.Inf(1))
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if reaches(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return from(lo)
}

// unstandardise maps the perceptron's standardised points back to data
// coordinates, x * std + mean, as the mlp family's sampler does.
func unstandardise(g *graph, x string, mean []float64, std float64) string {
	m := make([]float32, len(mean))
	for i, v := range mean {
		m[i] = float32(v)
	}
	x = g.node("Mul", []string{x, g.float("data_std", []float32{float32(std)}, 1)})
	return g.node("Add", []string{x, g.float("data_mean", m, len(m))})
}
