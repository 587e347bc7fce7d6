// Package toy runs the 2-D mixture benchmark: every loss on ring8 and
// grid25 over seeds (bench.go), with a journal that lets a long table stop
// and continue (journal.go). Each run is a pipeline.Run of the mlp family:
// trained in memory and scored on 2,500 samples for mode coverage, sample
// quality, reverse KL and exact W1.
package toy

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// Result is a finished toy run.
type Result struct {
	Score   metrics.MixtureScore
	Real    *tensor.Tensor // [n, 2] real points drawn for the plot
	Fake    *tensor.Tensor // [n, 2] generated points (EMA weights when EMA is on)
	Elapsed time.Duration
	Steps   int
}

// Run trains the config's 2-D GAN in memory and scores it. Progress lines
// go to log (nil for none; a *progress.Bar shows a bar). ctx cancellation
// stops training early with gan.ErrStopped, and the generator is scored as
// it is.
func Run(ctx context.Context, c config.Config, log io.Writer) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if c.IsImage() {
		return Result{}, errors.New("data.kind: " + c.Data.Kind + " is an image set; the toy benchmark takes 2-D mixtures")
	}
	r, err := pipeline.Run(ctx, c, pipeline.Options{Progress: log})
	if r.Points == nil {
		return Result{}, err
	}
	if err != nil && !errors.Is(err, gan.ErrStopped) {
		return Result{}, err
	}
	return Result{Score: r.Points.Score, Real: r.Points.Real, Fake: r.Points.Fake, Elapsed: r.Elapsed, Steps: r.Step}, err
}
