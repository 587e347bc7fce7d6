package gan

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// Truncation is the truncation trick (Brock et al. 2019, arXiv:1809.11096,
// section 3.1): sample noise closer to the prior's centre, trading variety
// for fidelity. It is for sampling only; training always draws the full
// prior. Libraries mean three different things by it, all offered here:
//
//   - "resample" (the default, BigGAN's definition): every value whose
//     magnitude exceeds Threshold is drawn again from the prior until it
//     falls inside, so z follows the prior truncated to [-Threshold,
//     Threshold] (BigGAN's truncated_noise_sample; PyTorch-StudioGAN's
//     truncation does this too).
//   - "clamp": values outside are set to the bound, which piles
//     probability mass onto ±Threshold.
//   - "scale": every value is multiplied by Threshold (psi, in (0, 1]),
//     StyleGAN's psi truncation in z space (StyleGAN applies it to w, the
//     mapped latent; here z's mean is 0, so it is a scaling).
type Truncation struct {
	// Threshold is the bound (resample, clamp) or the factor psi (scale);
	// 0 means no truncation.
	Threshold float64
	// Mode is "resample" (also when empty), "clamp" or "scale".
	Mode string
}

// TruncationModes lists the modes Truncation accepts, the default first.
var TruncationModes = []string{"resample", "clamp", "scale"}

// Validate reports a truncation a user got wrong.
func (t Truncation) Validate() error {
	switch t.Mode {
	case "", "resample", "clamp":
		if t.Threshold < 0 || math.IsNaN(t.Threshold) || math.IsInf(t.Threshold, 0) {
			return fmt.Errorf("truncation %v: want a positive threshold (0 for none)", t.Threshold)
		}
		if t.Threshold > 0 && t.Threshold < 0.01 && t.mode() == "resample" {
			return fmt.Errorf("truncation %v: resampling below 0.01 draws each value hundreds of times; use at least 0.01", t.Threshold)
		}
	case "scale":
		if !(t.Threshold >= 0 && t.Threshold <= 1) {
			return fmt.Errorf("truncation %v: scale truncation multiplies the noise by psi in (0, 1]", t.Threshold)
		}
	default:
		return fmt.Errorf("truncation mode %q (want resample, clamp or scale)", t.Mode)
	}
	return nil
}

func (t Truncation) mode() string {
	if t.Mode == "" {
		return "resample"
	}
	return t.Mode
}

// String describes the truncation ("none", "resample at 0.5").
func (t Truncation) String() string {
	if t.Threshold == 0 {
		return "none"
	}
	return fmt.Sprintf("%s at %g", t.mode(), t.Threshold)
}

// apply truncates z, drawn from p, in place; resampling draws from rng in
// element order, so the result is a function of the seed.
func (t Truncation) apply(p Prior, rng *tensor.RNG, z *tensor.Tensor) {
	if t.Threshold == 0 {
		return
	}
	thr := t.Threshold
	d := z.Data()
	switch t.mode() {
	case "scale":
		for i, v := range d {
			d[i] = float32(float64(v) * thr)
		}
	case "clamp":
		for i, v := range d {
			d[i] = float32(min(max(float64(v), -thr), thr))
		}
	default:
		if p.Kind == "uniform" && thr >= 1 {
			return
		}
		for i, v := range d {
			for math.Abs(float64(v)) > thr {
				if p.Kind == "uniform" {
					v = float32(2*rng.Float64() - 1)
				} else {
					v = float32(rng.NormFloat64())
				}
			}
			d[i] = v
		}
	}
}
