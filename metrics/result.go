package metrics

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Provenance says where the features behind a score came from; the
// metrics cannot know it, so the caller that ran the feature network
// supplies it.
type Provenance struct {
	// Network names the feature network and its weights, e.g.
	// "inception-v3 (TF FID weights)".
	Network string `json:"network"`
	// Layer names the layer the features were read from, e.g. "pool3".
	Layer string `json:"layer"`
	// Reference names the real data the fake set is compared with,
	// e.g. "cifar10/train" (empty for scores without one, like IS).
	Reference string `json:"reference,omitempty"`
}

// Value is one number of a Result. When Runs > 0 it is the mean over Runs
// subsets or splits and Std their standard deviation (ddof 0); when Runs
// is 0 it is a single number and Std is unused (and left out of the JSON).
type Value struct {
	Name  string
	Value float64
	Std   float64
	Runs  int
}

type valueJSON struct {
	Name  string   `json:"name"`
	Value float64  `json:"value"`
	Std   *float64 `json:"std,omitempty"`
	Runs  int      `json:"runs,omitempty"`
}

// MarshalJSON writes {"name", "value"} and, for a mean over runs, "std"
// and "runs".
func (v Value) MarshalJSON() ([]byte, error) {
	j := valueJSON{Name: v.Name, Value: v.Value}
	if v.Runs > 0 {
		std := v.Std
		j.Std, j.Runs = &std, v.Runs
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j valueJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Value{Name: j.Name, Value: j.Value, Runs: j.Runs}
	if j.Std != nil {
		v.Std = *j.Std
	}
	return nil
}

// String formats the value as "name=v" or "name=mean±std (runs)".
func (v Value) String() string {
	s := v.Name + "=" + strconv.FormatFloat(v.Value, 'g', 6, 64)
	if v.Runs > 0 {
		s += "±" + strconv.FormatFloat(v.Std, 'g', 3, 64) + fmt.Sprintf(" (%d runs)", v.Runs)
	}
	return s
}

// Result is a reported score together with how it was computed: the
// metric, the feature network and layer, the reference split, the number
// of real and generated samples, the feature dimension and the protocol
// (subsets, splits, k, seed). Every score type has a Result method; its
// JSON form is one line of a metrics log.
type Result struct {
	Metric string `json:"metric"` // "FID", "KID", "IS" or "PRDC"
	Provenance
	NReal    int     `json:"n_real"` // real (reference) samples; 0 when there is no real set (IS)
	NFake    int     `json:"n_fake"` // generated samples
	Dim      int     `json:"dim"`    // feature dimension (classes for IS)
	Protocol string  `json:"protocol"`
	Values   []Value `json:"values"`
}

// Get returns the value called name and whether there is one.
func (r Result) Get(name string) (Value, bool) {
	for _, v := range r.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{}, false
}

// String formats the result on one line, e.g.
//
//	FID: fid=12.3 | inception-v3 pool3 (2048-D) | real 50000 from cifar10/train | fake 50000 | <protocol>
func (r Result) String() string {
	vals := make([]string, len(r.Values))
	for i, v := range r.Values {
		vals[i] = v.String()
	}
	net := strings.TrimSpace(r.Network + " " + r.Layer)
	if net == "" {
		net = "unnamed features"
	}
	real := fmt.Sprintf("real %d", r.NReal)
	if r.Reference != "" {
		real += " from " + r.Reference
	}
	return fmt.Sprintf("%s: %s | %s (%d-D) | %s | fake %d | %s",
		r.Metric, strings.Join(vals, ", "), net, r.Dim, real, r.NFake, r.Protocol)
}

// JSON returns the result as one line of JSON.
func (r Result) JSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", r.Metric, err)
	}
	return b, nil
}
