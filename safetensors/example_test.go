package safetensors_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// Example writes two named tensors and metadata, shows the header, and reads
// the file back.
func Example() {
	f := &safetensors.File{
		Tensors: map[string]*tensor.Tensor{
			"fc.weight": tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
			"fc.bias":   tensor.FromSlice([]float32{0.5, -0.5}, 2),
		},
		Metadata: map[string]string{"format": "pt"},
	}
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil {
		log.Fatal(err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, header %q\n", n, buf.Bytes()[8:8+h.HeaderLen])

	back, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range back.Names() {
		t := back.Tensors[name]
		fmt.Println(name, t.Shape(), t.Data())
	}
	fmt.Println(back.Metadata)
	// Output:
	// 200 bytes, header "{\"__metadata__\":{\"format\":\"pt\"},\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}}     "
	// fc.bias [2] [0.5 -0.5]
	// fc.weight [2 3] [1 2 3 4 5 6]
	// map[format:pt]
}

// ExampleLoadHeader saves a file atomically and inspects its tensors without
// reading their data.
func ExampleLoadHeader() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	f := &safetensors.File{Tensors: map[string]*tensor.Tensor{
		"conv.weight": tensor.New(8, 3, 3, 3),
		"scale":       tensor.Scalar(2),
	}}
	if err := f.Save(path); err != nil {
		log.Fatal(err)
	}
	h, err := safetensors.LoadHeader(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range h.Tensors {
		fmt.Printf("%-12s %s %v bytes [%d, %d)\n", t.Name, t.DType, t.Shape, t.Begin, t.End)
	}
	// Output:
	// conv.weight  F32 [8 3 3 3] bytes [0, 864)
	// scale        F32 [] bytes [864, 868)
}
