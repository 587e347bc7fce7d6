package safetensors

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/from_kallima.safetensors from goldenFile()")

// goldenFile is the content of testdata/from_kallima.safetensors;
// EXPECTED_KALLIMA in testdata/gen_golden.py mirrors it.
func goldenFile() *File {
	ramp := func(n int, scale, shift float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i)*scale + shift
		}
		return v
	}
	bits := func(b ...uint32) []float32 {
		v := make([]float32, len(b))
		for i, x := range b {
			v[i] = math.Float32frombits(x)
		}
		return v
	}
	return &File{
		Tensors: map[string]*tensor.Tensor{
			"disc.fc.bias":    tensor.FromSlice([]float32{0.5, -1.25, 2}, 3),
			"disc.fc.weight":  tensor.FromSlice(ramp(12, 0.125, -0.75), 3, 4),
			"gen.conv.weight": tensor.FromSlice(ramp(18, 0.5, -4), 2, 1, 3, 3),
			"gen.scalar":      tensor.Scalar(math.Float32frombits(0x40490fdb)),
			"gen.empty":       tensor.New(0, 5),
			"special": tensor.FromSlice(bits(0, 0x80000000, 1, 0xff7fffff,
				0x7f800000, 0xff800000, 0x7fc00000), 7),
			"quote\"back\\slash\ttab\x01": tensor.FromSlice([]float32{42}, 1),
			"ünïcode.näme":                tensor.FromSlice([]float32{1, -1}, 2),
		},
		Metadata: map[string]string{
			"format":          "pt",
			"kallima.version": "0",
			"note":            "line1\nline2 \"quoted\" ü <&>",
		},
	}
}

// TestWriteGolden checks that the writer's output is byte-identical to the
// committed testdata/from_kallima.safetensors, which gen_golden.py verifies
// with an independent Python reader, so the format cannot drift silently.
// Run with -update to rewrite the file after an intended change.
func TestWriteGolden(t *testing.T) {
	path := filepath.Join("testdata", "from_kallima.safetensors")
	var buf bytes.Buffer
	if _, err := goldenFile().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes); now run testdata/gen_golden.py", path, buf.Len())
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("writer output (%d bytes) differs from %s (%d bytes); header now:\n%s",
			buf.Len(), path, len(want), headerText(buf.Bytes()))
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, goldenFile())
}

// headerText returns the JSON header of a file, for failure messages.
func headerText(b []byte) string {
	h, err := ReadHeader(bytes.NewReader(b))
	if err != nil {
		return err.Error()
	}
	return string(b[8 : 8+h.HeaderLen])
}

// pythonExpected is the layout of testdata/from_python.json.
type pythonExpected struct {
	Metadata map[string]string
	Tensors  map[string]struct {
		DType       DType
		Shape       []int
		Float32Bits []uint32 `json:"float32_bits"`
	}
}

// TestReadPythonGolden reads the file gen_golden.py wrote and checks every
// dtype, shape and value (as float32 bits, after NumPy's conversion) and the
// metadata.
func TestReadPythonGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "from_python.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want pythonExpected
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "from_python.safetensors")
	h, err := LoadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(want.Tensors) || len(h.Tensors) != len(want.Tensors) {
		t.Fatalf("read %d tensors (header %d), want %d", len(f.Tensors), len(h.Tensors), len(want.Tensors))
	}
	dtypes := map[DType]bool{}
	for _, info := range h.Tensors {
		w, ok := want.Tensors[info.Name]
		if !ok {
			t.Errorf("unexpected tensor %q", info.Name)
			continue
		}
		dtypes[info.DType] = true
		if info.DType != w.DType {
			t.Errorf("%s: dtype %s, want %s", info.Name, info.DType, w.DType)
		}
		got := f.Tensors[info.Name]
		if !slices.Equal(got.Shape(), w.Shape) || !slices.Equal(info.Shape, w.Shape) {
			t.Errorf("%s: shape %v (header %v), want %v", info.Name, got.Shape(), info.Shape, w.Shape)
		}
		gotBits := make([]uint32, got.Len())
		for i, v := range got.Data() {
			gotBits[i] = math.Float32bits(v)
		}
		if !slices.Equal(gotBits, w.Float32Bits) {
			t.Errorf("%s: float32 bits %#x, want %#x", info.Name, gotBits, w.Float32Bits)
		}
	}
	for _, d := range []DType{F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL} {
		if !dtypes[d] {
			t.Errorf("golden file has no %s tensor", d)
		}
	}
	if len(f.Metadata) != len(want.Metadata) {
		t.Errorf("metadata %q, want %q", f.Metadata, want.Metadata)
	}
	for k, v := range want.Metadata {
		if f.Metadata[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, f.Metadata[k], v)
		}
	}
}
