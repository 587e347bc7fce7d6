package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// modesChunk is how many images -modes generates and labels between
// progress lines (a multiple of imagegan.Generate's batch, so the noise is
// the same as in one call).
const modesChunk = 2000

// ModesScore is the result of kallima eval -modes.
type ModesScore struct {
	// Source names what was scored: a generator, a .npy file or real
	// Stacked MNIST images.
	Source string `json:"source"`
	// Seed seeds the generator's noise (or the real images' draws).
	Seed uint64 `json:"seed"`
	N    int    `json:"n"`
	// Modes is the number of the 1000 Stacked MNIST modes found, KL the
	// KL divergence of the found modes' histogram from the uniform over
	// 1000 modes, in nats (metrics.ModeCoverage).
	Modes int     `json:"modes"`
	Total int     `json:"total"`
	KL    float64 `json:"kl"`
	// ChannelKL is each channel's KL(digit histogram || uniform over 10)
	// (red, green, blue) and Dependence the KL from the product of the
	// channels' histograms: they sum to KL (metrics.KLParts).
	// ChannelShares[c][d] is digit d's share of channel c.
	ChannelKL     []float64   `json:"channel_kl"`
	ChannelShares [][]float64 `json:"channel_shares"`
	Dependence    float64     `json:"dependence"`
	// PairMI is the dependence by pairs of channels, the mutual
	// information of R-G, R-B and G-B in nats (metrics.PairMI): which
	// channels G couples. Independent channels give about 81/(2 N) each.
	PairMI []float64 `json:"pair_mi"`
	// Confidence is the mean over all channels of the probability the
	// network gives the digit it read, and Unsure the fraction of channels
	// read with less than UnsureBelow: how clear the digits are to it.
	Confidence float64 `json:"confidence"`
	Unsure     float64 `json:"unsure"`
	Network    string  `json:"network"`
	Seconds    float64 `json:"seconds"`
}

// UnsureBelow is the probability under which eval -modes counts a
// channel's digit as unsure (2.5% of MNIST's test digits are).
const UnsureBelow = 0.9

// runEvalModes is kallima eval -modes: the Stacked MNIST mode-collapse
// score of n images (0: imagegan.StackedSamples, or all of a smaller .npy
// file) of a run's generator, a .npy file, or (real "stacked-mnist") real
// Stacked MNIST images.
func runEvalModes(pos []string, real string, n int, seed uint64, raw, asJSON bool, pr data.PixelRange, stdout, stderr io.Writer) int {
	switch {
	case real != "" && real != "stacked-mnist":
		fmt.Fprintf(stderr, "kallima eval: -modes -real %s: only stacked-mnist (real Stacked MNIST images built from MNIST's training digits with -seed)\n", real)
		return exitUsage
	case real != "" && len(pos) != 0, real == "" && len(pos) != 1:
		fmt.Fprintln(stderr, "kallima eval: -modes scores one run folder, checkpoint or .npy file (kallima eval -modes RUN_OR_NPY), or -real stacked-mnist")
		return exitUsage
	case n < 0:
		fmt.Fprintf(stderr, "kallima eval: -modes -n %d: want at least one image (%d is the protocol's)\n", n, imagegan.StackedSamples)
		return exitUsage
	}
	net, err := classifier.Load()
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	start := time.Now()
	var npy *tensor.Tensor
	var format string
	if real == "" && strings.EqualFold(filepath.Ext(pos[0]), ".npy") {
		if npy, format, err = data.LoadRGB(pos[0], classifier.Side, pr); err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		if n == 0 {
			n = min(imagegan.StackedSamples, npy.Size(0))
		}
	}
	if n == 0 {
		n = imagegan.StackedSamples
	}
	score := ModesScore{Seed: seed, N: n, Network: net.Name}
	var next func(lo, hi int) (*tensor.Tensor, error) // images lo..hi-1
	switch {
	case real != "":
		dir, err := classifier.DefaultDataDir()
		if err == nil {
			var train *data.Set
			if train, err = classifier.LoadMNIST(dir, data.Train, stderr); err == nil {
				var set *data.Set
				if set, err = data.StackedMNIST(train, n, seed); err == nil {
					next = func(lo, hi int) (*tensor.Tensor, error) { return tensor.Slice(set.Images, 0, lo, hi), nil }
					score.Source = fmt.Sprintf("real Stacked MNIST, %d images built from mnist/train with seed %d", n, seed)
				}
			}
		}
	case npy != nil:
		if have := npy.Size(0); n > have {
			err = fmt.Errorf("-n %d: %s has %d images", n, pos[0], have)
			break
		}
		next = func(lo, hi int) (*tensor.Tensor, error) { return tensor.Slice(npy, 0, lo, hi), nil }
		score.Source = fmt.Sprintf("%s[:%d] (%s)", pos[0], n, format)
	default:
		var s *pipeline.Sampler
		var what string
		if s, _, what, err = loadForEval(pos[0], raw); err != nil {
			break
		}
		if s.Classes > 0 {
			err = fmt.Errorf("%s is a conditional generator (%d classes): the Stacked MNIST score measures an unconditional generator's modes", pos[0], s.Classes)
			break
		}
		if ch, side := s.Config.ImageShape(); ch != 3 || side != classifier.Side {
			err = fmt.Errorf("%s makes %dx%dx%d images; -modes scores 3x28x28 Stacked MNIST images (data.kind stacked-mnist)", pos[0], ch, side, side)
			break
		}
		src, prior, rng := pipeline.SourceOf(s), s.Prior, tensor.NewRNG(seed)
		next = func(lo, hi int) (*tensor.Tensor, error) { return imagegan.Generate(src, prior, hi-lo, rng), nil }
		score.Source = fmt.Sprintf("generator %s (%s weights)", what, s.Weights)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	modes := make([]int, 0, n)
	var sure float64 // the channels' summed probabilities
	unsure := 0      // channels read with less than UnsureBelow
	for lo := 0; lo < n; lo += modesChunk {
		hi := min(lo+modesChunk, n)
		x, err := next(lo, hi)
		if err == nil {
			var m []int
			var p []float64
			if m, p, err = imagegan.StackedLabels(net, x); err == nil {
				modes = append(modes, m...)
				for _, v := range p {
					sure += v
					if v < UnsureBelow {
						unsure++
					}
				}
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stderr, "modes: %d/%d images labelled, %s\n", hi, n, time.Since(start).Round(time.Second))
	}
	ms, err := metrics.ModeCoverage(modes, data.StackedModes)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	score.Modes, score.Total, score.KL, score.Seconds = ms.Modes, ms.Total, ms.KL, time.Since(start).Seconds()
	score.Confidence, score.Unsure = sure/float64(3*n), float64(unsure)/float64(3*n)
	if score.ChannelShares, score.ChannelKL, score.Dependence, err = metrics.KLParts(ms, 10, 3); err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if score.PairMI, err = metrics.PairMI(ms, 10, 3); err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if asJSON {
		return printJSON(score, stdout, stderr)
	}
	fmt.Fprintf(stdout, "images           %s\n", score.Source)
	fmt.Fprintf(stdout, "modes            %d of %d\n", score.Modes, score.Total)
	fmt.Fprintf(stdout, "KL               %.4f nats, KL(generated modes || uniform over %d)\n", score.KL, score.Total)
	fmt.Fprintf(stdout, "KL by channel    R %.4f + G %.4f + B %.4f (each channel's digits against uniform) + dependence %.4f (the channels' coupling)\n", score.ChannelKL[0], score.ChannelKL[1], score.ChannelKL[2], score.Dependence)
	var ext []string
	for c, sh := range score.ChannelShares {
		hi, lo := slices.Index(sh, slices.Max(sh)), slices.Index(sh, slices.Min(sh))
		ext = append(ext, fmt.Sprintf("%c most %d (%.1f%%), least %d (%.1f%%)", "RGB"[c], hi, 100*sh[hi], lo, 100*sh[lo]))
	}
	fmt.Fprintf(stdout, "digits           %s\n", strings.Join(ext, "; "))
	fmt.Fprintf(stdout, "coupled pairs    R-G %.4f, R-B %.4f, G-B %.4f (mutual information; independent channels give about %.4f each)\n", score.PairMI[0], score.PairMI[1], score.PairMI[2], 81/(2*float64(n)))
	fmt.Fprintf(stdout, "network          %s (each channel's digit; mode 100*R + 10*G + B)\n", score.Network)
	fmt.Fprintf(stdout, "confidence       %.3f (the network's mean probability for the digits it read); %.1f%% of the channels below %.1f\n", score.Confidence, 100*score.Unsure, UnsureBelow)
	fmt.Fprintf(stdout, "time             %.1f s\n", score.Seconds)
	if n != imagegan.StackedSamples {
		fmt.Fprintf(stdout, "note             the protocol (VEEGAN, PacGAN) scores %d images; modes and KL depend on n\n", imagegan.StackedSamples)
	}
	return exitOK
}
