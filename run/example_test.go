package run_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// model is what a training loop owns: a network, its optimizer and the RNG
// that draws its inputs.
type model struct {
	net   *nn.Linear
	opt   optim.Optimizer
	noise *tensor.RNG
}

func newModel(seed uint64) *model {
	net := nn.NewLinear(2, 2, tensor.NewRNG(seed))
	opt, err := optim.NewAdam(nn.Parameters(net), optim.DefaultAdamConfig())
	if err != nil {
		log.Fatal(err)
	}
	return &model{net: net, opt: opt, noise: tensor.NewRNG(seed + 1)}
}

// step takes one training step and returns its loss.
func (m *model) step() float64 {
	x := autograd.Const(m.noise.Normal(0, 1, 16, 2))
	loss := autograd.Mean(autograd.Square(m.net.Forward(x)), nil, false)
	m.opt.ZeroGrad()
	autograd.Backward(loss)
	m.opt.Step()
	return float64(loss.Data().Item())
}

// Example trains for 300 steps, logging and checkpointing every 100 with a
// score (lower is better, like FID), then reopens the run and resumes it:
// the checkpoint restores the weights, the Adam moments and the RNG stream.
// With Keep 1, the newest checkpoint and the best-scoring one are kept.
func Example() {
	root, err := os.MkdirTemp("", "kallima-run-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "ring8")
	opts := run.Options{Keep: 1}

	r, err := run.Create(dir, []byte("name: ring8\nseed: 1\n"), opts)
	if err != nil {
		log.Fatal(err)
	}
	m := newModel(1)
	scores := map[int]float64{100: 2.5, 200: 1.5, 300: 1.75}
	for step := 1; step <= 300; step++ {
		loss := m.step()
		if step%100 != 0 {
			continue
		}
		if err := r.Log(step, map[string]float64{"loss": loss}); err != nil {
			log.Fatal(err)
		}
		ck := run.NewCheckpoint(step)
		ck.PutModule("g", m.net)
		ck.PutState("opt_g", m.opt)
		ck.PutRNG("noise", m.noise)
		score := scores[step]
		if err := r.SaveCheckpoint(ck, &score); err != nil {
			log.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		log.Fatal(err)
	}

	// Later, or after a crash: reopen and resume.
	r, err = run.Open(dir, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ck, skipped, err := r.Resume()
	if err != nil {
		log.Fatal(err)
	}
	resumed := newModel(42) // other initial weights; the checkpoint replaces them
	if err := ck.LoadModule("g", resumed.net); err != nil {
		log.Fatal(err)
	}
	if err := ck.LoadState("opt_g", resumed.opt); err != nil {
		log.Fatal(err)
	}
	if err := ck.LoadRNG("noise", resumed.noise); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resumed at step %d (%d damaged checkpoints skipped), groups %q\n", ck.Step, len(skipped), ck.Groups())
	fmt.Println("next step identical:", resumed.step() == m.step())

	infos, err := r.Checkpoints()
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range infos {
		fmt.Printf("%s score %.2f\n", filepath.Base(in.Path), *in.Score)
	}
	recs, err := r.Metrics()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("metrics records:", len(recs))
	// Output:
	// resumed at step 300 (0 damaged checkpoints skipped), groups ["g" "opt_g"]
	// next step identical: true
	// step-000200.safetensors score 1.50
	// step-000300.safetensors score 1.75
	// metrics records: 3
}
