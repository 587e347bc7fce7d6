package optim

import "math"

// Schedule gives the learning rate for each step. A schedule is a plain,
// stateless value: LR depends only on the step (0 for the first optimizer
// step), so resuming a run needs nothing but the step counter. Set it before
// each step: opt.SetLR(sched.LR(step)).
type Schedule interface {
	LR(step int) float32
}

// Constant is a schedule that always gives Base.
type Constant struct {
	Base float32 // the learning rate
}

// LR returns Base.
func (s Constant) LR(step int) float32 { return s.Base }

// Linear is a schedule that holds Base until step Start, decays linearly to
// Base·Final at step End, and holds that afterwards:
//
//	f(t) = 1                                   t ≤ Start
//	f(t) = 1 + (Final − 1)(t − Start)/(End − Start)   Start < t < End
//	f(t) = Final                               t ≥ End
//
// LR(t) = Base·f(t). Final = 0 with Start = 0 and End = total steps is the
// linear decay to zero used by BigGAN and CycleGAN. If End ≤ Start the
// factor drops from 1 to Final at End.
type Linear struct {
	Base       float32 // learning rate before Start
	Start, End int     // steps where the decay begins and ends
	Final      float32 // factor of Base reached at End
}

// LR returns the learning rate for step.
func (s Linear) LR(step int) float32 {
	switch {
	case step >= s.End:
		return float32(float64(s.Base) * float64(s.Final))
	case step <= s.Start:
		return s.Base
	}
	frac := float64(step-s.Start) / float64(s.End-s.Start)
	return float32(float64(s.Base) * (1 + (float64(s.Final)-1)*frac))
}

// Cosine is a schedule with an optional linear warm-up followed by cosine
// annealing to Base·Final at step Total (and Base·Final afterwards):
//
//	LR(t) = Base · t/Warmup                                  t < Warmup
//	LR(t) = Base · (Final + (1 − Final)·(1 + cos(π·p))/2)    otherwise,
//	        p = min(1, (t − Warmup)/max(1, Total − Warmup))
//
// Without warm-up this is torch.optim.lr_scheduler.CosineAnnealingLR's
// closed form with eta_min = Base·Final and T_max = Total (Loshchilov and
// Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
// arXiv:1608.03983); with it and Final = 0 it is Hugging Face's
// get_cosine_schedule_with_warmup (LR 0 at step 0).
type Cosine struct {
	Base   float32 // peak learning rate
	Warmup int     // steps of linear warm-up from 0 (0: none)
	Total  int     // step at which the annealing reaches Base·Final
	Final  float32 // factor of Base at the end
}

// LR returns the learning rate for step.
func (s Cosine) LR(step int) float32 {
	step = max(step, 0)
	if step < s.Warmup {
		return float32(float64(s.Base) * float64(step) / float64(s.Warmup))
	}
	p := float64(step-s.Warmup) / float64(max(1, s.Total-s.Warmup))
	p = min(p, 1)
	f := float64(s.Final) + (1-float64(s.Final))*0.5*(1+math.Cos(math.Pi*p))
	return float32(float64(s.Base) * f)
}
