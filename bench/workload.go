// Package bench holds Kallima's reference training workloads for speed
// comparisons (dcgan and wgangp, as specified in the project's
// bench/WORKLOAD.md and run by `kallima bench`) and the harness that times
// them. bench/pytorch_bench.py runs the same workloads in PyTorch and
// bench/compare.sh prints the two side by side.
//
// Both workloads are batch 64 of 28x28x1 images with Adam (lr 2e-4, betas
// 0.5, 0.999) for both networks; one iteration is one discriminator update
// on a real and a fake batch followed by one generator update.
package bench

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// Workload sizes.
const (
	Batch = 64  // samples per batch
	NZ    = 100 // latent dimension
)

// Names lists the workloads, in the order `kallima bench` documents them.
func Names() []string { return []string{"dcgan", "wgangp"} }

// NewGenerator returns the workloads' generator: z [N, 100] -> Linear(6272)
// -> BatchNorm1d -> ReLU -> reshape [128, 7, 7] -> ConvTranspose2d(128->64,
// k4, s2, p1) -> BatchNorm2d -> ReLU -> ConvTranspose2d(64->1, k4, s2, p1)
// -> tanh, giving [N, 1, 28, 28].
func NewGenerator(rng *tensor.RNG) *nn.Sequential {
	up := nn.ConvOptions{Stride: 2, Padding: 1}
	return nn.NewSequential(
		nn.NewLinear(NZ, 128*7*7, rng),
		nn.NewBatchNorm1d(128*7*7),
		nn.ReLU{},
		nn.Reshape{Shape: []int{128, 7, 7}},
		nn.NewConvTranspose2d(128, 64, 4, up, rng),
		nn.NewBatchNorm2d(64),
		nn.ReLU{},
		nn.NewConvTranspose2d(64, 1, 4, up, rng),
		nn.Tanh{},
	)
}

// NewDiscriminator returns the workloads' discriminator: x [N, 1, 28, 28]
// -> Conv2d(1->64, k4, s2, p1) -> LeakyReLU(0.2) -> Conv2d(64->128, k4, s2,
// p1) -> BatchNorm2d (dcgan only: batchNorm) -> LeakyReLU(0.2) -> flatten
// -> Linear(6272->1), giving one logit (a critic value for wgangp) [N, 1].
func NewDiscriminator(batchNorm bool, rng *tensor.RNG) *nn.Sequential {
	down := nn.ConvOptions{Stride: 2, Padding: 1}
	layers := []nn.Layer{
		nn.NewConv2d(1, 64, 4, down, rng),
		nn.LeakyReLU{Slope: 0.2},
		nn.NewConv2d(64, 128, 4, down, rng),
	}
	if batchNorm {
		layers = append(layers, nn.NewBatchNorm2d(128))
	}
	layers = append(layers, nn.LeakyReLU{Slope: 0.2}, nn.Flatten{}, nn.NewLinear(128*7*7, 1, rng))
	return nn.NewSequential(layers...)
}

// Workload is one of the reference workloads, ready to step: both networks,
// their optimizers, a fixed batch of "real" images (uniform in [-1, 1]; the
// data does not matter for speed) and the random stream for latents.
type Workload struct {
	Name       string
	G, D       *nn.Sequential
	OptG, OptD *optim.Adam

	real    *tensor.Tensor
	rng     *tensor.RNG
	penalty bool // wgangp: Wasserstein losses and the gradient penalty
	dParams []*autograd.Value
}

// GPWeight is the gradient penalty's weight (lambda) in wgangp.
const GPWeight = 10

// New builds the named workload ("dcgan" or "wgangp") with weights, data and
// latents drawn from seed. It returns an error for an unknown name.
func New(name string, seed uint64) (*Workload, error) {
	if _, ok := IterationFLOPs(name); !ok {
		return nil, fmt.Errorf("bench: unknown workload %q (want one of %v)", name, Names())
	}
	rng := tensor.NewRNG(seed)
	w := &Workload{Name: name, rng: rng.Split(), penalty: name == "wgangp"}
	w.G = NewGenerator(rng)
	w.D = NewDiscriminator(!w.penalty, rng)
	w.dParams = nn.Parameters(w.D)
	cfg := optim.AdamConfig{LR: 2e-4, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}
	var err error
	if w.OptG, err = optim.NewAdam(nn.Parameters(w.G), cfg); err != nil {
		return nil, fmt.Errorf("bench: generator optimizer: %w", err)
	}
	if w.OptD, err = optim.NewAdam(w.dParams, cfg); err != nil {
		return nil, fmt.Errorf("bench: discriminator optimizer: %w", err)
	}
	w.real = rng.Uniform(-1, 1, Batch, 1, 28, 28)
	return w, nil
}

// Losses are one iteration's discriminator and generator losses.
type Losses struct{ D, G float32 }

// Step runs one iteration: a discriminator update on the real batch and a
// fake batch from fresh latents, then a generator update on the same fake
// batch (the generator has not changed in between), through the updated
// discriminator. The discriminator's parameters are frozen for the generator
// update, whose loss needs only their input gradients. Every intermediate
// tensor lives in a tensor.Arena that the step closes, so in steady state
// the step reuses the previous step's memory.
func (w *Workload) Step() Losses {
	arena := tensor.OpenArena()
	defer arena.Close()
	z := autograd.Const(w.rng.Normal(0, 1, Batch, NZ))
	fake := w.G.Forward(z)

	w.OptD.ZeroGrad()
	var lossD *autograd.Value
	if w.penalty {
		lossD = w.criticLoss(fake.Detach())
	} else {
		// BCE with logits: -log sigmoid(l) = softplus(-l) for real (1),
		// -log(1 - sigmoid(l)) = softplus(l) for fake (0).
		real := autograd.Mean(autograd.Softplus(autograd.Neg(w.D.Forward(autograd.Const(w.real)))), nil, false)
		fk := autograd.Mean(autograd.Softplus(w.D.Forward(fake.Detach())), nil, false)
		lossD = autograd.Add(real, fk)
	}
	autograd.Backward(lossD)
	w.OptD.Step()

	for _, p := range w.dParams {
		p.SetRequiresGrad(false)
	}
	w.OptG.ZeroGrad()
	var lossG *autograd.Value
	if w.penalty {
		lossG = autograd.Neg(autograd.Mean(w.D.Forward(fake), nil, false))
	} else {
		lossG = autograd.Mean(autograd.Softplus(autograd.Neg(w.D.Forward(fake))), nil, false)
	}
	autograd.Backward(lossG)
	w.OptG.Step()
	for _, p := range w.dParams {
		p.SetRequiresGrad(true)
	}
	return Losses{D: lossD.Item(), G: lossG.Item()}
}

// criticLoss is WGAN-GP's critic loss (Gulrajani et al. 2017, "Improved
// Training of Wasserstein GANs", arXiv:1704.00028):
// mean(D(fake)) - mean(D(real)) + 10 * mean((||grad_x D(x_hat)||_2 - 1)^2)
// with x_hat = e*real + (1-e)*fake, one e ~ U(0, 1) per sample, the norm
// over each sample's whole gradient.
func (w *Workload) criticLoss(fake *autograd.Value) *autograd.Value {
	e := w.rng.Uniform(0, 1, Batch, 1, 1, 1)
	xhat := tensor.Add(tensor.Mul(e, w.real), tensor.Mul(tensor.AddScalar(tensor.Neg(e), 1), fake.Data()))
	x := autograd.Param(xhat)
	gx := autograd.Grad([]*autograd.Value{autograd.Sum(w.D.Forward(x), nil, false)}, []*autograd.Value{x}, nil, true)[0]
	gp := autograd.Mean(autograd.Square(autograd.AddScalar(autograd.Norm(gx, 0), -1)), nil, false)
	real := autograd.Mean(w.D.Forward(autograd.Const(w.real)), nil, false)
	fk := autograd.Mean(w.D.Forward(fake), nil, false)
	return autograd.Add(autograd.Sub(fk, real), autograd.Scale(gp, GPWeight))
}
