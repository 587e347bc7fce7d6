package family_test

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/family/all"
)

// TestPackConfig checks model.pack's config errors: each names the fields
// to fix, and the families without packing refuse it.
func TestPackConfig(t *testing.T) {
	image := []string{"data.kind=synthetic", "data.n=48", "data.classes=3", "train.batch=8"}
	for _, tc := range []struct {
		name string
		sets []string
		want []string // substrings of the error; none for a valid config
	}{
		{"mlp pack 2", []string{"model.pack=2"}, nil},
		{"mlp pack 4 with r1", []string{"model.pack=4", "loss.penalty=r1", "loss.penalty_weight=1"}, nil},
		{"mlp pack 1", []string{"model.pack=1"}, nil},
		{"mlp pack -2", []string{"model.pack=-2"}, []string{"model.pack: -2"}},
		{"mlp pack 3, batch 128", []string{"model.pack=3", "train.batch=128"}, []string{"train.batch: 128", "model.pack 3"}},
		{"mlp pack with feature matching", []string{"model.pack=2", "loss.feature_matching=1"}, []string{"loss.feature_matching", "model.pack"}},
		{"dcgan pack 2", append(image, "model.kind=dcgan", "model.pack=2"), nil},
		{"dcgan pack 3, batch 8", append(image, "model.kind=dcgan", "model.pack=3"), []string{"train.batch: 8", "model.pack 3"}},
		{"dcgan pack -1", append(image, "model.kind=dcgan", "model.pack=-1"), []string{"model.pack: -1"}},
		{"cgan refuses", append(image, "model.kind=cgan", "model.pack=2"), []string{"model.pack: 2", "cgan"}},
		{"acgan refuses", append(image, "model.kind=acgan", "model.pack=2"), []string{"model.pack: 2", "acgan"}},
		{"infogan refuses", append(image, "model.kind=infogan", "model.pack=2"), []string{"model.pack: 2", "infogan"}},
		{"cgan default", append(image, "model.kind=cgan"), nil},
		{"sngan has no pack", append(image, "model.kind=sngan", "model.pack=2"), []string{"pack"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			var err error
			for _, kv := range tc.sets {
				if err = c.Set(kv); err != nil {
					break
				}
			}
			if err == nil {
				err = c.Validate()
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
