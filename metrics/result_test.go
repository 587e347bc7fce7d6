package metrics

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func TestResultRecordsProvenance(t *testing.T) {
	rng := tensor.NewRNG(12)
	real, fake := rng.Normal(0, 1, 120, 6), rng.Normal(0.2, 1, 90, 6)
	p := Provenance{Network: "inception-v3", Layer: "pool3", Reference: "toy/train"}
	gr, err := FitGaussian(real)
	if err != nil {
		t.Fatal(err)
	}
	gf, err := FitGaussian(fake)
	if err != nil {
		t.Fatal(err)
	}
	fid, err := FID(gr, gf)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := KID(real, fake, KIDConfig{Subsets: 5, SubsetSize: 50, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	prdc, err := PRDC(real, fake, PRDCConfig{})
	if err != nil {
		t.Fatal(err)
	}
	is, err := InceptionScore(tensor.Full(0.25, 40, 4), ISConfig{Splits: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r            Result
		metric       string
		nReal, nFake int
		dim          int
		values       []string
		protocol     []string // phrases the protocol must state
		runs         int      // runs of the first value
	}{
		{fid.Result(p), "FID", 120, 90, 6, []string{"fid"}, []string{"Frechet", "unbiased"}, 0},
		{kid.Result(p), "KID", 120, 90, 6, []string{"kid"}, []string{"5 subsets of 50", "seed 9", "(x.y/d+1)^3"}, 5},
		{prdc.Result(p), "PRDC", 120, 90, 6, []string{"precision", "recall", "density", "coverage"}, []string{"k=3", "k=5"}, 0},
		{is.Result(Provenance{Network: "classifier"}), "IS", 0, 40, 4, []string{"is"}, []string{"4 consecutive splits", "ddof 0"}, 4},
	} {
		r := c.r
		if r.Metric != c.metric || r.NReal != c.nReal || r.NFake != c.nFake || r.Dim != c.dim || len(r.Values) != len(c.values) {
			t.Errorf("%s: %+v", c.metric, r)
			continue
		}
		for i, name := range c.values {
			if r.Values[i].Name != name {
				t.Errorf("%s: value %d is %q, want %q", c.metric, i, r.Values[i].Name, name)
			}
		}
		if r.Values[0].Runs != c.runs {
			t.Errorf("%s: %d runs, want %d", c.metric, r.Values[0].Runs, c.runs)
		}
		for _, ph := range c.protocol {
			if !strings.Contains(r.Protocol, ph) {
				t.Errorf("%s: protocol %q does not state %q", c.metric, r.Protocol, ph)
			}
		}
		// The JSON form carries everything and reads back to the same Result.
		b, err := r.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v in %s", c.metric, err, b)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s: JSON round trip\n%+v\n%+v", c.metric, back, r)
		}
		for _, key := range []string{`"metric"`, `"n_real"`, `"n_fake"`, `"network"`, `"layer"`, `"protocol"`, `"values"`} {
			if !strings.Contains(string(b), key) {
				t.Errorf("%s: JSON %s lacks %s", c.metric, b, key)
			}
		}
		if hasStd := strings.Contains(string(b), `"std"`); hasStd != (c.runs > 0) {
			t.Errorf("%s: JSON %s: std present %v, want %v", c.metric, b, hasStd, c.runs > 0)
		}
		s := r.String()
		for _, part := range []string{c.metric + ":", r.Network, r.Values[0].Name + "=", r.Protocol} {
			if !strings.Contains(s, part) {
				t.Errorf("%s: String %q lacks %q", c.metric, s, part)
			}
		}
	}
	fr := fid.Result(p)
	if v, ok := fr.Get("fid"); !ok || v.Value != fid.FID {
		t.Errorf("Get(fid) = %+v, %v", v, ok)
	}
	if _, ok := fr.Get("kid"); ok {
		t.Error("Get found a value the result does not have")
	}
	if s := fr.String(); !strings.Contains(s, "real 120 from toy/train") || !strings.Contains(s, "inception-v3 pool3 (6-D)") {
		t.Errorf("String %q does not say where the features came from", s)
	}
}

func TestValueString(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{Value{Name: "fid", Value: 12.5}, "fid=12.5"},
		{Value{Name: "kid", Value: 0.0125, Std: 0.0031, Runs: 100}, "kid=0.0125±0.0031 (100 runs)"},
		{Value{Name: "is", Value: 9, Std: 0, Runs: 10}, "is=9±0 (10 runs)"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
}
