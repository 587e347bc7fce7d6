package infogan_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/family/infogan"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// tiny is a small InfoGAN on synthetic 28x28 images.
func tiny(t *testing.T, sets ...string) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range append([]string{"data.kind=synthetic", "data.n=64", "model.kind=infogan", "model.width=4", "model.z_dim=6",
		"model.q_hidden=8", "train.batch=16", "train.steps=10", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=1"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// generator builds the model of c to sample (no data) and returns its
// Coded generator.
func generator(t *testing.T, c config.Config) family.Coded {
	t.Helper()
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := m.Generator.(family.Coded)
	if !ok {
		t.Fatalf("the infogan generator %T is not family.Coded", m.Generator)
	}
	m.GeneratorPlayer.Module.SetTraining(false)
	return g
}

func TestPresetIsThePapers(t *testing.T) {
	c, err := config.Preset("infogan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := c.Model.Section.(*infogan.Section).Dense; d != 1024 {
		t.Errorf("model.dense %d, want the paper's FC 1024 in both networks", d)
	}
	g := generator(t, c)
	var kinds []int
	for _, code := range g.Codes() {
		kinds = append(kinds, code.Categories)
	}
	if p := g.Prior(); p.Dim != 62 || p.Kind != "uniform" || len(kinds) != 3 || kinds[0] != 10 || kinds[1] != 0 || kinds[2] != 0 {
		t.Fatalf("prior %+v and codes %v, want 62 uniform dimensions, Cat(10) and two continuous codes", p, kinds)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"model.q_hidden=0", "model.q_hidden"},
		{"model.lambda_cont=-1", "model.lambda_cat/lambda_cont"},
		{"model.cont_codes=-1", "model.cat_codes/cont_codes"},
		{"model.z_dim=0", "z_dim"},
		{"model.real_info=-1", "model.real_info"},
		{"model.cat_codes=[]", "model.real_info: 1 needs a categorical code"},
		{"model.real_info=0", "model.real_info_pairs: true needs a positive model.real_info"},
		{"model.restyle_rotate=-5", "model.restyle_rotate: -5"},
		{"model.restyle_zoom=1.5", "model.restyle_zoom: 1.5: want less than 1"},
	} {
		c := config.Default()
		for _, kv := range []string{"data.kind=synthetic", "model.kind=infogan", "model.real_info=1", "model.real_info_pairs=true", tc.set} {
			if err := c.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.set, err, tc.want)
		}
	}
	c := config.Default()
	for _, kv := range []string{"data.kind=synthetic", "model.kind=infogan", "model.restyle_shift=2"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "real_info_pairs, which is off") {
		t.Errorf("restyle_shift without the pairs: %v, want a refusal", err)
	}
}

// TestPickPresetIsPairsPlusCandidates: infogan-pick-mnist is
// infogan-pairs-mnist with rotated, zoomed and shifted copies, trained as
// three candidates of 1000 steps, the best two by d/real_info on to 2000,
// and nothing else changed.
func TestPickPresetIsPairsPlusCandidates(t *testing.T) {
	pairs, err := config.Preset("infogan-pairs-mnist")
	if err != nil {
		t.Fatal(err)
	}
	pick, err := config.Preset("infogan-pick-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if err := pick.Validate(); err != nil {
		t.Fatal(err)
	}
	s, tr := pick.Model.Section.(*infogan.Section), &pick.Train
	if s.RestyleRotate != 20 || s.RestyleZoom != 0.2 || s.RestyleShift != 2 || tr.Candidates != 3 || tr.CandidateSteps != 1000 || tr.CandidateMetric != "d/real_info" ||
		tr.Finalists != 2 || tr.FinalistSteps != 2000 {
		t.Fatalf("rotate %g, zoom %g, shift %g, candidates %d of %d steps by %q, %d finalists to %d: want 20, 0.2, 2, 3 of 1000 by d/real_info, 2 to 2000",
			s.RestyleRotate, s.RestyleZoom, s.RestyleShift, tr.Candidates, tr.CandidateSteps, tr.CandidateMetric, tr.Finalists, tr.FinalistSteps)
	}
	s.RestyleRotate, s.RestyleZoom, s.RestyleShift = 0, 0, 0
	tr.Candidates, tr.CandidateSteps, tr.CandidateMetric, tr.Finalists, tr.FinalistSteps = 0, 0, "", 0, 0
	pick.Name = pairs.Name
	a, err := pairs.YAML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pick.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("without the moved copies and the candidates the presets differ:\n%s\n---\n%s", a, b)
	}
}

// TestPairsPresetIsThePapersPlusPairs: infogan-pairs-mnist is
// infogan-mnist with the paired real_info term and nothing else changed.
func TestPairsPresetIsThePapersPlusPairs(t *testing.T) {
	paper, err := config.Preset("infogan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := config.Preset("infogan-pairs-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if err := pairs.Validate(); err != nil {
		t.Fatal(err)
	}
	s := pairs.Model.Section.(*infogan.Section)
	if !s.RealInfoPairs || s.RealInfo != 1 {
		t.Fatalf("real_info_pairs %v, real_info %g: want true and 1", s.RealInfoPairs, s.RealInfo)
	}
	s.RealInfoPairs, s.RealInfo = false, 0
	pairs.Name = paper.Name
	a, err := paper.YAML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pairs.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("without the pairs the presets differ:\n%s\n---\n%s", a, b)
	}
}

// TestGenerateRefuses: unknown codes, values out of range, counts that do
// not match the noise and labels are errors naming them.
func TestGenerateRefuses(t *testing.T) {
	g := generator(t, tiny(t))
	z := g.Prior().Sample(tensor.NewRNG(1), 2)
	for _, tc := range []struct {
		req  family.Request
		want string
	}{
		{family.Request{Codes: map[string][]float64{"c4": {0, 0}}}, "unknown latent code c4"},
		{family.Request{Codes: map[string][]float64{"c1": {10, 0}}}, "c1 = 10"},
		{family.Request{Codes: map[string][]float64{"c1": {2.5, 0}}}, "c1 = 2.5"},
		{family.Request{Codes: map[string][]float64{"c1": {-1, 0}}}, "c1 = -1"},
		{family.Request{Codes: map[string][]float64{"c2": {0, 2.5}}}, "c2 = 2.5 out of range"},
		{family.Request{Codes: map[string][]float64{"c3": {math.NaN(), 0}}}, "c3 = NaN"},
		{family.Request{Codes: map[string][]float64{"c2": {0}}}, "c2 has 1 values for 2"},
		{family.Request{Labels: []int{0, 1}}, "labels"},
	} {
		if _, err := g.Generate(z, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.req, err, tc.want)
		}
	}
	if _, err := g.Generate(z, family.Request{Codes: map[string][]float64{"c1": {9, 0}, "c2": {-2, 2}}}); err != nil {
		t.Fatalf("values in range: %v", err)
	}
}

// TestUnnamedCodesFollowTheNoise: a code the request does not name is a
// function of the row's noise (the same noise gives the same image, with
// any other rows beside it), and naming a code changes the image. The
// batches compared are of one size: some BLAS kernels round a row
// differently in products of other heights.
func TestUnnamedCodesFollowTheNoise(t *testing.T) {
	g := generator(t, tiny(t))
	z := g.Prior().Sample(tensor.NewRNG(2), 3)
	a, err := g.Generate(z, family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	other := g.Prior().Sample(tensor.NewRNG(3), 3)
	copy(other.Data()[6*2:], z.Data()[6*2:6*3])
	b3, err := g.Generate(other, family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	px := 28 * 28
	for i := range px {
		if a.Data()[2*px+i] != b3.Data()[2*px+i] {
			t.Fatalf("row 2 beside other rows differs from row 2 in the first batch at pixel %d", i)
		}
	}
	// Alone, too (not drawn from a stream shared by the batch's rows):
	// equal to float32 rounding, where another code would move pixels by
	// tenths.
	row := tensor.FromSlice(z.Data()[6*2:6*3], 1, 6)
	b, err := g.Generate(row, family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range px {
		if d := math.Abs(float64(a.Data()[2*px+i] - b.Data()[i])); d > 1e-5 {
			t.Fatalf("row 2 alone differs from row 2 in a batch at pixel %d by %g", i, d)
		}
	}
	// Setting c2 to a value differs from leaving it to the noise.
	c, err := g.Generate(row, family.Request{Codes: map[string][]float64{"c2": {1.9}}})
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range px {
		same = same && c.Data()[i] == b.Data()[i]
	}
	if same {
		t.Fatal("naming c2 = 1.9 did not change the image")
	}
}

// TestTrains runs a short InfoGAN on synthetic images through the
// pipeline and checks that every MI term is logged and that Q learns to
// read the categorical code back (its cross-entropy falls from about
// ln 10), and that the run's samples hold one traversal grid per code.
func TestTrains(t *testing.T) {
	c := tiny(t, "train.steps=600", "train.lr_g=1e-3", "train.lr_d=1e-3")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	first, last := metrics(t, dir)
	for _, k := range []string{"d/mi_cat", "d/mi_cont", "g/mi_cat", "g/mi_cont", "d/ns", "g/ns"} {
		if _, ok := last[k]; !ok {
			t.Fatalf("no %s in the logs (have %v)", k, last)
		}
	}
	t.Logf("d/mi_cat %.3f -> %.3f", first["d/mi_cat"], last["d/mi_cat"])
	if first["d/mi_cat"] < 2 || last["d/mi_cat"] > 1.5 {
		t.Fatalf("d/mi_cat went from %.3f to %.3f: want from about ln 10 = 2.30 to below 1.5", first["d/mi_cat"], last["d/mi_cat"])
	}
	for _, name := range []string{"c1", "c2", "c3"} {
		if _, err := os.Stat(filepath.Join(dir, run.SamplesDir, pipeline.TraversalFile(name))); err != nil {
			t.Fatalf("traversal grid of %s: %v", name, err)
		}
	}
}

// metrics returns the first and last scalar records of a run's log.
func metrics(t *testing.T, dir string) (first, last map[string]float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct{ Scalars map[string]float64 }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = rec.Scalars
		}
		last = rec.Scalars
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return first, last
}

// TestRealInfoTrains: with model.real_info (alone and in its paired form)
// the D update logs d/real_info, weight times a value in [-ln 10, 0], and
// G's update has no such term; the paired form, with the restyled copies
// also rotated, zoomed and shifted, too; it refuses colour images.
func TestRealInfoTrains(t *testing.T) {
	moved := []string{"model.restyle_rotate=20", "model.restyle_zoom=0.2", "model.restyle_shift=2"}
	for _, pairs := range []string{"false", "true", "moved"} {
		set := []string{"model.real_info=0.5", "model.real_info_pairs=" + strconv.FormatBool(pairs != "false")}
		if pairs == "moved" {
			set = append(set, moved...)
		}
		c := tiny(t, set...)
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
			t.Fatal(err)
		}
		_, last := metrics(t, dir)
		v, ok := last["d/real_info"]
		if !ok {
			t.Fatalf("pairs %s: no d/real_info in the logs (have %v)", pairs, last)
		}
		if v > 1e-6 || v < -0.5*math.Log(10)-1e-6 {
			t.Fatalf("pairs %s: d/real_info %v, want within [-0.5 ln 10, 0]", pairs, v)
		}
		if _, ok := last["g/real_info"]; ok {
			t.Fatal("G's update logs real_info: the term belongs to D's update only")
		}
	}
	c := tiny(t, "model.real_info=0.5", "model.real_info_pairs=true")
	if _, err := family.Build(c, family.Data{Channels: 3, Size: 28}); err == nil || !strings.Contains(err.Error(), "3 channels") {
		t.Fatalf("paired real_info on colour images: %v, want a refusal naming 3 channels", err)
	}
}
