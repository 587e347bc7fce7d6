package optim

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	cases := []struct {
		name  string
		s     Schedule
		steps []int
		want  []float64
	}{
		{"constant", Constant{Base: 0.1}, []int{0, 1, 1000}, []float64{0.1, 0.1, 0.1}},
		{"linear to zero", Linear{Base: 1, Start: 10, End: 20, Final: 0},
			[]int{-1, 0, 10, 11, 15, 19, 20, 30}, []float64{1, 1, 1, 0.9, 0.5, 0.1, 0, 0}},
		{"linear to half", Linear{Base: 2, Start: 0, End: 4, Final: 0.5},
			[]int{0, 1, 2, 4, 5}, []float64{2, 1.75, 1.5, 1, 1}},
		{"linear empty span", Linear{Base: 1, Start: 10, End: 10, Final: 0.1},
			[]int{9, 10, 11}, []float64{1, 0.1, 0.1}},
		{"cosine", Cosine{Base: 1, Total: 10},
			[]int{0, 5, 10, 20}, []float64{1, 0.5, 0, 0}},
		// 0.5·(1 + cos(π/10)) = 0.9755282581475768
		{"cosine step 1 of 10", Cosine{Base: 1, Total: 10}, []int{1}, []float64{0.9755282581475768}},
		{"cosine warm-up", Cosine{Base: 2, Warmup: 4, Total: 12, Final: 0.1},
			[]int{-3, 0, 1, 2, 4, 8, 12, 100}, []float64{0, 0, 0.5, 1, 2, 1.1, 0.2, 0.2}},
		{"cosine warm-up only", Cosine{Base: 1, Warmup: 5, Total: 5, Final: 0.25},
			[]int{4, 5, 6}, []float64{0.8, 1, 0.25}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, step := range tc.steps {
				got := tc.s.LR(step)
				if math.Abs(float64(got)-tc.want[i]) > 1e-7*math.Max(1, tc.want[i]) {
					t.Errorf("LR(%d) = %v, want %v", step, got, tc.want[i])
				}
			}
		})
	}
}
