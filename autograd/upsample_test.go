package autograd

func init() {
	addCases(
		gradCase{op: "upsample_nearest", shapes: [][]int{{2, 3, 2, 3}}, f: nl(func(a *Value) *Value { return UpsampleNearest(a, 2) })},
		gradCase{op: "upsample_nearest", shapes: [][]int{{1, 2, 3, 1}}, f: nl(func(a *Value) *Value { return UpsampleNearest(a, 3) })},
		gradCase{op: "upsample_nearest_transpose", shapes: [][]int{{2, 2, 4, 6}}, f: nl(func(a *Value) *Value { return upsampleNearestTranspose(a, 2) })},
		gradCase{op: "upsample_bilinear", shapes: [][]int{{2, 2, 3, 4}}, f: nl(func(a *Value) *Value { return UpsampleBilinear(a, 7, 5) })},
		gradCase{op: "upsample_bilinear", shapes: [][]int{{1, 2, 5, 6}}, f: nl(func(a *Value) *Value { return UpsampleBilinear(a, 3, 4) })},
		gradCase{op: "upsample_bilinear_transpose", shapes: [][]int{{2, 1, 6, 8}}, f: nl(func(a *Value) *Value { return upsampleBilinearTranspose(a, 3, 4) })},
		gradCase{op: "upsample_bilinear_transpose", shapes: [][]int{{1, 2, 2, 3}}, f: nl(func(a *Value) *Value { return upsampleBilinearTranspose(a, 5, 4) })},
	)
}
