package safetensors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// FuzzRead feeds arbitrary bytes to the readers. It asserts that nothing
// panics, that Parse and Read agree, that every error wraps ErrFormat, and
// that any accepted file round-trips: writing it and reading the result back
// gives the same names, shapes, bits and metadata, and writing that again
// gives the same bytes. Seeds are valid files (the golden files, reference
// serialisations, every readable dtype) and a few near misses.
func FuzzRead(f *testing.F) {
	f.Add(writeBytes(f, goldenFile()))
	f.Add(writeBytes(f, &File{}))
	f.Add(writeBytes(f, &File{Metadata: map[string]string{"framework": "pt"}}))
	f.Add(writeBytes(f, &File{Tensors: map[string]*tensor.Tensor{"attn.0": tensor.Reshape(tensor.Arange(0, 6, 1), 1, 2, 3)}}))
	if b, err := os.ReadFile(filepath.Join("testdata", "from_python.safetensors")); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	for _, d := range []DType{F64, F16, BF16, I64, I32, I16, I8, U8, BOOL, U16} {
		data := make([]byte, 2*d.Size())
		data[0] = 1
		f.Add(fileBytes(`{`+entry("x", string(d), "[2]", "[0,"+strconv.Itoa(len(data))+"]")+`}`, data))
	}
	f.Add(fileBytes(`{`+entry("a", "F32", "[1]", "[4,8]")+`}`, f32Bytes(1, 2)))
	f.Add(fileBytes(`{"__metadata__":{"k":1}}`, nil))
	f.Add(fileBytes(`{`+entry("a", "F32", "[0,9223372036854775807]", "[0,0]")+`}`, nil))

	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Parse(b)
		got2, err2 := Read(bytes.NewReader(b))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Parse error %v but Read error %v", err, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) || !errors.Is(err2, ErrFormat) {
				t.Fatalf("errors %q, %q do not wrap ErrFormat", err, err2)
			}
			return
		}
		assertSameFile(t, got2, got)
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Parse accepted the file but ReadHeader: %v", err)
		}
		for _, ti := range h.Tensors {
			if !slices.Equal(ti.Shape, got.Tensors[ti.Name].Shape()) {
				t.Fatalf("%q: header shape %v, tensor shape %v", ti.Name, ti.Shape, got.Tensors[ti.Name].Shape())
			}
		}

		var out bytes.Buffer
		if _, err := got.WriteTo(&out); err != nil {
			t.Fatalf("writing an accepted file: %v", err)
		}
		back, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("reading the rewritten file: %v\n%q", err, out.Bytes())
		}
		assertSameFile(t, back, got)
		if again := writeBytes(t, back); !bytes.Equal(again, out.Bytes()) {
			t.Fatalf("second write differs from the first")
		}
	})
}
