package metrics

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// Golden values from testdata/gen_feature_golden.py (NumPy/SciPy, float64
// on the stored float32 features). Tolerances:
//   - mean and covariance: 1e-12 relative (both float64 sums, different orders);
//   - FID: 1e-11 relative (measured <= 2.5e-13); scipy's sqrtm (Schur) and
//     the symmetric eigendecompositions agree to rounding even for the
//     ill-conditioned low-rank set (smallest covariance eigenvalues ~1e-6);
//   - KID: 2e-7 absolute (measured <= 1.5e-8 per subset on values ~0.6):
//     the Go dot products are float32 GEMMs, the kernel and sums float64;
//   - IS: 1e-12 relative;
//   - PRDC: exact (ratios of counts, distance comparisons settled in float64).
type featureGolden struct {
	RealMean        []float64          `json:"real_mean"`
	RealCov         []float64          `json:"real_cov"`
	FIDRealFake     float64            `json:"fid_real_fake"`
	FIDRealLowRank  float64            `json:"fid_real_lowrank"`
	FIDLowRankFake  float64            `json:"fid_lowrank_fake"`
	KIDRealIdx      [][]int            `json:"kid_real_idx"`
	KIDFakeIdx      [][]int            `json:"kid_fake_idx"`
	KIDFakeRows     int                `json:"kid_fake_rows"`
	KIDSubsetMMD2   []float64          `json:"kid_subset_mmd2"`
	KIDMean         float64            `json:"kid_mean"`
	KIDStd          float64            `json:"kid_std"`
	KIDFullSet      float64            `json:"kid_full_set"`
	ISMean          float64            `json:"is_mean"`
	ISStd           float64            `json:"is_std"`
	PRDCRealFake    map[string]float64 `json:"prdc_real_fake"`
	PRDCRealFake200 map[string]float64 `json:"prdc_real_fake200"`
	PRDCFakeReal    map[string]float64 `json:"prdc_fake_real"`
}

// readFloat32 reads testdata/NAME.bin (little-endian float32, row-major)
// with the shape in its sidecar testdata/NAME.json.
func readFloat32(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Shape     []int  `json:"shape"`
		DType     string `json:"dtype"`
		ByteOrder string `json:"byteorder"`
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	if m.DType != "float32" || m.ByteOrder != "little" {
		t.Fatalf("%s.json: %+v, want little-endian float32", name, m)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for _, s := range m.Shape {
		n *= s
	}
	if len(raw) != 4*n {
		t.Fatalf("%s.bin: %d bytes for shape %v", name, len(raw), m.Shape)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return tensor.FromSlice(data, m.Shape...)
}

func loadFeatureGolden(t *testing.T) featureGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "feature_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g featureGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func relClose(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

func TestFeatureGoldenGaussian(t *testing.T) {
	g := loadFeatureGolden(t)
	real := readFloat32(t, "feat_real")
	fit, err := FitGaussian(real)
	if err != nil {
		t.Fatal(err)
	}
	if fit.N != 300 || len(fit.Mean) != len(g.RealMean) || len(fit.Cov) != len(g.RealCov) {
		t.Fatalf("fit: n %d, %d means, %d cov entries", fit.N, len(fit.Mean), len(fit.Cov))
	}
	for i, w := range g.RealMean {
		if math.Abs(fit.Mean[i]-w) > 1e-12*math.Max(math.Abs(w), 1) {
			t.Errorf("mean[%d] = %.17g, numpy %.17g", i, fit.Mean[i], w)
		}
	}
	for i, w := range g.RealCov {
		if math.Abs(fit.Cov[i]-w) > 1e-12*math.Max(math.Abs(w), 1) {
			t.Errorf("cov[%d] = %.17g, numpy.cov %.17g", i, fit.Cov[i], w)
		}
	}
}

func TestFeatureGoldenFID(t *testing.T) {
	g := loadFeatureGolden(t)
	sets := map[string]Gaussian{}
	for _, name := range []string{"feat_real", "feat_fake", "feat_lowrank"} {
		fit, err := FitGaussian(readFloat32(t, name))
		if err != nil {
			t.Fatal(err)
		}
		sets[name] = fit
	}
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"feat_real", "feat_fake", g.FIDRealFake},
		{"feat_real", "feat_lowrank", g.FIDRealLowRank},
		{"feat_lowrank", "feat_fake", g.FIDLowRankFake},
	} {
		s, err := FID(sets[c.a], sets[c.b])
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(s.FID, c.want, 1e-11) {
			t.Errorf("FID(%s, %s) = %.15g, scipy sqrtm %.15g (rel diff %.2g)", c.a, c.b, s.FID, c.want, math.Abs(s.FID-c.want)/c.want)
		}
		t.Logf("FID(%s, %s) = %.15g, scipy %.15g, rel diff %.2g", c.a, c.b, s.FID, c.want, math.Abs(s.FID-c.want)/c.want)
		if s.NReal != 300 || s.NFake != 300 || s.Dim != 16 {
			t.Errorf("FID(%s, %s) provenance %+v", c.a, c.b, s)
		}
	}
}

func TestFeatureGoldenKID(t *testing.T) {
	g := loadFeatureGolden(t)
	real := readFloat32(t, "feat_real")
	fake := readFloat32(t, "feat_fake")
	const tol = 2e-7
	fake200 := tensor.Slice(fake, 0, 0, g.KIDFakeRows)
	mmds := kidSubsets(real, fake200, g.KIDRealIdx, g.KIDFakeIdx)
	for s, w := range g.KIDSubsetMMD2 {
		if math.Abs(mmds[s]-w) > tol {
			t.Errorf("subset %d: MMD^2 %.10g, numpy %.10g", s, mmds[s], w)
		}
	}
	worst := 0.0
	for s, w := range g.KIDSubsetMMD2 {
		worst = math.Max(worst, math.Abs(mmds[s]-w))
	}
	t.Logf("KID subsets: largest |Go - numpy| = %.2g", worst)
	mean, std := meanStd(mmds)
	if math.Abs(mean-g.KIDMean) > tol || math.Abs(std-g.KIDStd) > tol {
		t.Errorf("KID on the script's subsets: %.10g ± %.10g, numpy %.10g ± %.10g", mean, std, g.KIDMean, g.KIDStd)
	}
	// With the defaults, 300 rows cap the subsets at the full sets: every
	// subset is a permutation of both sets, and the unbiased MMD does not
	// depend on order, so KID is the full-set MMD^2 with std ~0.
	s, err := KID(real, fake, KIDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KID defaults: %.10g ± %.2g, numpy full set %.10g", s.Mean, s.Std, g.KIDFullSet)
	if s.SubsetSize != 300 || s.Subsets != 100 || math.Abs(s.Mean-g.KIDFullSet) > tol || s.Std > tol {
		t.Errorf("KID defaults: %+v, numpy full-set MMD^2 %.10g", s, g.KIDFullSet)
	}
}

func TestFeatureGoldenInceptionScore(t *testing.T) {
	g := loadFeatureGolden(t)
	s, err := InceptionScore(readFloat32(t, "probs"), ISConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !relClose(s.Mean, g.ISMean, 1e-12) || !relClose(s.Std, g.ISStd, 1e-12) {
		t.Errorf("IS = %.15g ± %.15g, numpy %.15g ± %.15g", s.Mean, s.Std, g.ISMean, g.ISStd)
	}
	if s.Splits != 10 || s.N != 300 || s.Classes != 10 {
		t.Errorf("IS provenance %+v", s)
	}
}

func TestFeatureGoldenPRDC(t *testing.T) {
	g := loadFeatureGolden(t)
	real := readFloat32(t, "feat_real")
	fake := readFloat32(t, "feat_fake")
	for _, c := range []struct {
		name       string
		real, fake *tensor.Tensor
		want       map[string]float64
	}{
		{"real vs fake", real, fake, g.PRDCRealFake},
		{"real vs fake[:200]", real, tensor.Slice(fake, 0, 0, 200), g.PRDCRealFake200},
		{"fake vs real", fake, real, g.PRDCFakeReal},
	} {
		s, err := PRDC(c.real, c.fake, PRDCConfig{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{"precision": s.Precision, "recall": s.Recall, "density": s.Density, "coverage": s.Coverage}
		if len(c.want) != 4 {
			t.Fatalf("%s: golden %v", c.name, c.want)
		}
		for k, w := range c.want {
			if math.Abs(got[k]-w) > 1e-12 {
				t.Errorf("%s: %s = %.15g, numpy %.15g", c.name, k, got[k], w)
			}
		}
	}
}
