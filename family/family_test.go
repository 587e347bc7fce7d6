package family

import (
	"strings"
	"testing"
)

// TestCheckLabels checks the request check every class-conditional family
// shares: the label count, the range and no latent codes.
func TestCheckLabels(t *testing.T) {
	for _, c := range []struct {
		req  Request
		want string
	}{
		{Request{Labels: []int{0, 1}}, "acgan: 2 labels for 3 noise vectors"},
		{Request{Labels: []int{0, 1, 3}}, "acgan: class 3 out of range [0, 3)"},
		{Request{Labels: []int{0, -1, 2}}, "class -1 out of range"},
		{Request{Labels: []int{0, 1, 2}, Codes: map[string][]float64{"c1": {1, 2, 3}}}, "latent codes given"},
	} {
		if err := CheckLabels(c.req, "acgan", 3, 3); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.req, err, c.want)
		}
	}
	if err := CheckLabels(Request{Labels: []int{2, 0, 1}}, "acgan", 3, 3); err != nil {
		t.Errorf("a valid request: %v", err)
	}
}
