package safetensors

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// benchFile is 16 tensors of 1024x256 float32 values (16 MiB).
func benchFile() *File {
	rng := tensor.NewRNG(1)
	f := &File{Tensors: map[string]*tensor.Tensor{}}
	for i := range 16 {
		f.Tensors["layer"+strconv.Itoa(i)+".weight"] = rng.Normal(0, 1, 1024, 256)
	}
	return f
}

func BenchmarkWriteTo(b *testing.B) {
	f := benchFile()
	b.Run("F32x16x1024x256", func(b *testing.B) {
		b.SetBytes(16 * 1024 * 256 * 4)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := f.WriteTo(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	if _, err := benchFile().WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.Run("F32x16x1024x256", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := Parse(buf.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
