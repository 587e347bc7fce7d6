package pipeline

import (
	"strings"
	"testing"
)

func TestCodeSpecParse(t *testing.T) {
	var f CodeSpec
	for _, s := range []string{"c1=3", "c2=-2:2", "c3 = 0.5"} {
		if err := f.Set(s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if f.Fixed["c1"] != 3 || f.Fixed["c3"] != 0.5 || f.Trav == nil || f.Trav.Name != "c2" || f.Trav.Lo != -2 || f.Trav.Hi != 2 {
		t.Fatalf("parsed %+v, trav %+v", f.Fixed, f.Trav)
	}
	if got := f.String(); got != "c1=3,c2=-2:2,c3=0.5" {
		t.Fatalf("String() = %q", got)
	}
	for _, tc := range []struct{ prev, s, want string }{
		{"", "c1", "want NAME=VALUE"},
		{"", "=3", "want NAME=VALUE"},
		{"", "c1=", "want NAME=VALUE"},
		{"", "c1=x", `"x" is not a number`},
		{"", "c1=NaN", "not a number"},
		{"", "c2=1:x", `"x" is not a number`},
		{"", "c2=1:-1", "from low to high"},
		{"c1=2", "c1=3", "c1 given twice"},
		{"c2=0:1", "c3=0:1", "second traversal"},
	} {
		var g CodeSpec
		if tc.prev != "" {
			if err := g.Set(tc.prev); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Set(tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q after %q: %v, want an error with %q", tc.s, tc.prev, err, tc.want)
		}
	}
}
