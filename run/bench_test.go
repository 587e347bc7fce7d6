package run

import (
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// benchCheckpoint holds n tensors of 1024x1024 float32 values (4 MiB each).
func benchCheckpoint(n int) *Checkpoint {
	rng := tensor.NewRNG(1)
	ck := NewCheckpoint(1)
	for i := range n {
		ck.Tensors["g/layer"+strconv.Itoa(i)+".weight"] = rng.Normal(0, 1, 1024, 1024)
	}
	ck.PutRNG("noise", rng)
	return ck
}

// BenchmarkSaveCheckpoint measures SaveCheckpoint of 16 MiB: checksum,
// write, fsync, rename, the latest pointer and pruning (Keep 2).
func BenchmarkSaveCheckpoint(b *testing.B) {
	b.Run("F32x4x1024x1024", func(b *testing.B) {
		ck := benchCheckpoint(4)
		r, err := Create(filepath.Join(b.TempDir(), "run"), nil, Options{Keep: 2, Warn: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		b.SetBytes(4 << 22)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			ck.Step++
			if err := r.SaveCheckpoint(ck, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadCheckpoint measures reading and verifying 16 MiB.
func BenchmarkLoadCheckpoint(b *testing.B) {
	b.Run("F32x4x1024x1024", func(b *testing.B) {
		r, err := Create(filepath.Join(b.TempDir(), "run"), nil, Options{Warn: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		if err := r.SaveCheckpoint(benchCheckpoint(4), nil); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(4 << 22)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := r.Load(1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
