package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// fileBytes assembles a file from a header (used as is, not padded) and a
// data buffer.
func fileBytes(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// f32Bytes is the little-endian encoding of vs.
func f32Bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// writeBytes is f.WriteTo into a buffer; it fails the test on error.
func writeBytes(t testing.TB, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// assertSameFile checks that two files hold the same names, shapes, float32
// bit patterns and metadata (nil and empty metadata are the same).
func assertSameFile(t testing.TB, got, want *File) {
	t.Helper()
	if !slices.Equal(got.Names(), want.Names()) {
		t.Fatalf("names %q, want %q", got.Names(), want.Names())
	}
	for _, name := range want.Names() {
		g, w := got.Tensors[name], want.Tensors[name]
		if !slices.Equal(g.Shape(), w.Shape()) {
			t.Fatalf("%q: shape %v, want %v", name, g.Shape(), w.Shape())
		}
		for i := range w.Data() {
			if a, b := math.Float32bits(g.Data()[i]), math.Float32bits(w.Data()[i]); a != b {
				t.Fatalf("%q: element %d has bits %#08x, want %#08x", name, i, a, b)
			}
		}
	}
	if len(got.Metadata) != len(want.Metadata) {
		t.Fatalf("metadata %q, want %q", got.Metadata, want.Metadata)
	}
	for k, v := range want.Metadata {
		if gv, ok := got.Metadata[k]; !ok || gv != v {
			t.Fatalf("metadata[%q] = %q, want %q", k, gv, v)
		}
	}
}

// TestWriteMatchesReference checks the writer byte for byte against the
// serialisations asserted by the Rust reference library's own unit tests
// (header layout, key order, padding to 8 bytes with spaces).
func TestWriteMatchesReference(t *testing.T) {
	ramp := []float32{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name   string
		file   *File
		header string
	}{
		{"one tensor, no padding",
			&File{Tensors: map[string]*tensor.Tensor{"attn.0": tensor.FromSlice(ramp, 1, 2, 3)}},
			`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`},
		{"one tensor, padded",
			&File{Tensors: map[string]*tensor.Tensor{"attn0": tensor.FromSlice(ramp, 1, 1, 2, 3)}},
			`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `},
		{"empty", &File{}, `{}      `},
		{"empty with metadata",
			&File{Metadata: map[string]string{"framework": "pt"}},
			`{"__metadata__":{"framework":"pt"}}     `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			for _, name := range tc.file.Names() {
				data = append(data, f32Bytes(tc.file.Tensors[name].Data()...)...)
			}
			want := fileBytes(tc.header, data)
			if got := writeBytes(t, tc.file); !bytes.Equal(got, want) {
				t.Fatalf("wrote\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestWriteDeterministic writes the same content, built in different
// insertion orders, and checks the bytes are identical, names are laid out
// sorted, and the header is 8-byte aligned for every name length.
func TestWriteDeterministic(t *testing.T) {
	names := []string{"b", "a.weight", "a", "Z", "a.bias", "é", ""}
	build := func(order []string) *File {
		f := &File{Tensors: map[string]*tensor.Tensor{}, Metadata: map[string]string{}}
		for _, n := range order {
			f.Tensors[n] = tensor.Full(float32(len(n)), 2, len(n)%3)
			f.Metadata["k"+n] = n
		}
		return f
	}
	want := writeBytes(t, build(names))
	rng := tensor.NewRNG(1)
	for range 20 {
		order := make([]string, len(names))
		for i, j := range rng.Perm(len(names)) {
			order[i] = names[j]
		}
		if got := writeBytes(t, build(order)); !bytes.Equal(got, want) {
			t.Fatalf("order %q wrote different bytes", order)
		}
	}
	h, err := ReadHeader(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	var gotOrder []string
	for _, ti := range h.Tensors {
		if ti.End > ti.Begin { // empty tensors share offsets; skip them
			gotOrder = append(gotOrder, ti.Name)
		}
	}
	if !slices.IsSorted(gotOrder) {
		t.Fatalf("data order %q is not sorted", gotOrder)
	}

	for n := range 20 {
		f := &File{Tensors: map[string]*tensor.Tensor{strings.Repeat("x", n): tensor.Scalar(1)}}
		b := writeBytes(t, f)
		hlen := int(binary.LittleEndian.Uint64(b))
		header := string(b[8 : 8+hlen])
		trimmed := strings.TrimRight(header, " ")
		if hlen%8 != 0 || len(header)-len(trimmed) > 7 || !strings.HasSuffix(trimmed, "}") {
			t.Fatalf("name length %d: header %q (length %d) is not padded to 8 with spaces", n, header, hlen)
		}
	}
}

// TestWriteRoundTrip writes seeded random files (scalars, empty tensors,
// random bit patterns including NaN and Inf) and reads them back with Parse,
// Read and Load.
func TestWriteRoundTrip(t *testing.T) {
	rng := tensor.NewRNG(7)
	dir := t.TempDir()
	for trial := range 30 {
		f := &File{Tensors: map[string]*tensor.Tensor{}, Metadata: map[string]string{"trial": string(rune('A' + trial))}}
		for i := range 1 + trial%5 {
			rank := rng.Intn(4)
			shape := make([]int, rank)
			for d := range shape {
				shape[d] = rng.Intn(4) // 0 makes an empty tensor
			}
			tt := tensor.New(shape...)
			for j := range tt.Data() {
				tt.Data()[j] = math.Float32frombits(uint32(rng.Float64() * (1 << 32)))
			}
			f.Tensors[string(rune('a'+i))+".w"] = tt
		}
		b := writeBytes(t, f)
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		assertSameFile(t, got, f)
		got, err = Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("trial %d: Read: %v", trial, err)
		}
		assertSameFile(t, got, f)
		path := filepath.Join(dir, "w.safetensors")
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err = Load(path)
		if err != nil {
			t.Fatal(err)
		}
		assertSameFile(t, got, f)
	}
}

// TestWriteErrors checks that invalid content is refused before anything
// is written.
func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		file *File
		want string
	}{
		{"nil tensor", &File{Tensors: map[string]*tensor.Tensor{"w": nil}}, `tensor "w" is nil`},
		{"reserved name", &File{Tensors: map[string]*tensor.Tensor{"__metadata__": tensor.Scalar(1)}}, "reserved"},
		{"invalid UTF-8 name", &File{Tensors: map[string]*tensor.Tensor{"w\xff": tensor.Scalar(1)}}, "not valid UTF-8"},
		{"invalid UTF-8 metadata key", &File{Metadata: map[string]string{"\xc3": "v"}}, "not valid UTF-8"},
		{"invalid UTF-8 metadata value", &File{Metadata: map[string]string{"k": "\xc3"}}, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := tc.file.WriteTo(&buf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if n != 0 || buf.Len() != 0 {
				t.Fatalf("wrote %d bytes (reported %d) before failing", buf.Len(), n)
			}
		})
	}
}

// failingWriter accepts limit bytes and then fails.
type failingWriter struct{ limit, n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		k := w.limit - w.n
		w.n = w.limit
		return k, errDiskFull
	}
	w.n += len(p)
	return len(p), nil
}

// TestWriteToPropagatesWriterError checks that a failing writer's error is
// returned with the count of bytes it accepted, for failures in the header
// and in the middle of the data.
func TestWriteToPropagatesWriterError(t *testing.T) {
	f := &File{Tensors: map[string]*tensor.Tensor{"big": tensor.New(100_000)}}
	for _, limit := range []int{0, 10, 70_000, 300_000} {
		w := &failingWriter{limit: limit}
		n, err := f.WriteTo(w)
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("limit %d: error %v, want %v", limit, err, errDiskFull)
		}
		if n != int64(limit) {
			t.Fatalf("limit %d: reported %d bytes written", limit, n)
		}
	}
}

// TestSave checks the atomic save: the file is created with mode 0644,
// replaced on a second save, left untouched when the content is invalid, and
// no temporary files remain; a missing directory is an error.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	first := &File{Tensors: map[string]*tensor.Tensor{"w": tensor.Full(1, 2, 2)}}
	second := &File{Tensors: map[string]*tensor.Tensor{"v": tensor.Full(2, 3)}, Metadata: map[string]string{"step": "2"}}
	if err := first.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if err := second.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, second)

	bad := &File{Tensors: map[string]*tensor.Tensor{"w": nil}}
	if err := bad.Save(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("saving a nil tensor: error %v, want one naming %s", err, path)
	}
	got, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameFile(t, got, second)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "model.safetensors" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %q, want only model.safetensors", names)
	}
	// Missing folders are made; a parent that is a file is an error.
	made := filepath.Join(t.TempDir(), "missing", "m.safetensors")
	if err := first.Save(made); err != nil {
		t.Fatalf("saving into a missing directory: %v", err)
	}
	if err := first.Save(filepath.Join(made, "m.safetensors")); err == nil {
		t.Fatal("saving under a file succeeded")
	}
}

// TestAppendJSONString checks serde_json-style escaping, and that Go's JSON
// decoder reads every escaped string back unchanged.
func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain.name_0", `"plain.name_0"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f <&> é ü 日本", "\"\x7f <&> é ü 日本\""},
	}
	for _, tc := range tests {
		got := string(appendJSONString(nil, tc.in))
		if got != tc.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != tc.in {
			t.Errorf("decoding %s: %q, %v; want %q", got, back, err, tc.in)
		}
	}
	for c := range 0x80 {
		s := string(rune(c))
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil || back != s {
			t.Errorf("byte %#x: decoded %q, %v", c, back, err)
		}
	}
}
