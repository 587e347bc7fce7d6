package tensor_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/tensor"
)

func ExampleNew() {
	x := tensor.New(2, 3) // zeros
	x.Set(5, 1, 2)
	fmt.Println(x.Shape(), x.Len(), x.At(1, 2))
	fmt.Println(x)
	// Output:
	// [2 3] 6 5
	// Tensor[2 3][0 0 0 0 0 5]
}

func ExampleFromSlice() {
	// FromSlice takes ownership of the slice: no copy, row-major order.
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(x.At(0, 2), x.At(1, 0))
	fmt.Println(tensor.Transpose(x))
	// Output:
	// 3 4
	// Tensor[3 2][1 4 2 5 3 6]
}

func ExampleAdd() {
	// NumPy broadcasting: [2, 3] + [3] adds the row to every row, and
	// [2, 1] + [3] makes an outer sum.
	x := tensor.FromSlice([]float32{0, 0, 0, 10, 10, 10}, 2, 3)
	row := tensor.FromSlice([]float32{1, 2, 3}, 3)
	col := tensor.FromSlice([]float32{100, 200}, 2, 1)
	fmt.Println(tensor.Add(x, row))
	fmt.Println(tensor.Add(col, row))
	// Output:
	// Tensor[2 3][1 2 3 11 12 13]
	// Tensor[2 3][101 102 103 201 202 203]
}

func ExampleMatMul() {
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	fmt.Println(tensor.MatMul(a, b, false, false)) // a @ b
	fmt.Println(tensor.MatMul(a, a, false, true))  // a @ aᵀ, no transpose materialised
	// Output:
	// Tensor[2 2][4 5 10 11]
	// Tensor[2 2][14 32 32 77]
}

func ExampleRNG() {
	g := tensor.NewRNG(42)
	noise := g.Normal(0, 1, 4, 100) // a batch of latent vectors
	fmt.Println(noise.Shape())

	// Checkpoint the generator mid-stream and restore it: the stream
	// continues exactly.
	state := g.State()
	first := g.Uniform(-1, 1, 5)
	if err := g.SetState(state); err != nil {
		fmt.Println(err)
		return
	}
	again := g.Uniform(-1, 1, 5)
	fmt.Println(tensor.Equal(first, again))

	// Split gives an independent, reproducible stream for a worker.
	worker := g.Split()
	fmt.Println(worker.Categorical([]float32{0, 1, 0}, 3))
	// Output:
	// [4 100]
	// Tensor[5][1 1 1 1 1]
	// [1 1 1]
}
