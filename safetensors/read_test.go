package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// entry is a header entry for tensor name.
func entry(name, dtype, shape, offsets string) string {
	return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

// TestParseRejects feeds malformed files to Parse and Read and checks each
// fails with an ErrFormat error that says what is wrong.
func TestParseRejects(t *testing.T) {
	four := f32Bytes(1)
	eight := f32Bytes(1, 2)
	a4 := entry("a", "F32", "[1]", "[0,4]")
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty file", nil, "0 bytes, shorter than the 8-byte header length"},
		{"short length prefix", []byte{1, 0, 0}, "3 bytes, shorter than the 8-byte"},
		{"header length over the cap", binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), "exceeds the limit of 100000000"},
		{"header length 2^64-1", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "header length 18446744073709551615 exceeds the limit"},
		{"header length past the end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 is larger than the 2 bytes"},
		{"zero-length header", fileBytes("", nil), "does not start with '{'"},
		{"header not UTF-8", fileBytes("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"leading space", fileBytes(" {}", nil), "does not start with '{'"},
		{"array header", fileBytes("[]", nil), "does not start with '{'"},
		{"JSON cut short", fileBytes(`{"a":`, nil), `ends in the middle of the entry of tensor "a"`},
		{"JSON syntax error", fileBytes(`{"a" 1}`, nil), "not valid JSON"},
		{"garbage after the object", fileBytes(`{} x`, nil), "after the header's JSON object"},
		{"second object", fileBytes(`{}{}`, nil), "found an object after the header's JSON object"},
		{"duplicate tensor name", fileBytes(`{`+a4+`,`+entry("a", "F32", "[1]", "[4,8]")+`}`, eight), `duplicate tensor name "a"`},
		{"duplicate __metadata__", fileBytes(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate key "__metadata__" in header`},
		{"duplicate metadata key", fileBytes(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate key "k" in __metadata__`},
		{"duplicate field", fileBytes(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a": duplicate field "dtype"`},
		{"entry is an array", fileBytes(`{"a":[1]}`, nil), `the entry of tensor "a" must be a JSON object, found an array`},
		{"entry is null", fileBytes(`{"a":null}`, nil), `tensor "a" must be a JSON object, found null`},
		{"missing shape", fileBytes(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, four), `tensor "a": missing field "shape"`},
		{"missing dtype", fileBytes(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a": missing field "dtype"`},
		{"missing offsets", fileBytes(`{"a":{"dtype":"F32","shape":[1]}}`, four), `tensor "a": missing field "data_offsets"`},
		{"unknown field", fileBytes(`{"a":{"dtype":"F32","shape":[1],"offsets":[0,4]}}`, four), `tensor "a": unknown field "offsets"`},
		{"unknown dtype", fileBytes(`{`+entry("a", "F128", "[1]", "[0,16]")+`}`, nil), `tensor "a": unknown dtype "F128"`},
		{"lower-case dtype", fileBytes(`{`+entry("a", "f32", "[1]", "[0,4]")+`}`, four), `unknown dtype "f32"`},
		{"dtype not a string", fileBytes(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, four), `dtype must be a string, found the number 4`},
		{"dtype known but not readable", fileBytes(`{`+entry("a", "U16", "[2]", "[0,4]")+`}`, four), `tensor "a": dtype U16 cannot be read as float32`},
		{"negative dimension", fileBytes(`{`+entry("a", "F32", "[-1]", "[0,4]")+`}`, four), `shape holds the negative number -1`},
		{"fractional dimension", fileBytes(`{`+entry("a", "F32", "[1.5]", "[0,4]")+`}`, four), `shape holds 1.5, which is not written as an integer`},
		{"dimension with exponent", fileBytes(`{`+entry("a", "F32", "[1e0]", "[0,4]")+`}`, four), `shape holds 1e0, which is not written as an integer`},
		{"dimension as a string", fileBytes(`{`+entry("a", "F32", `["1"]`, "[0,4]")+`}`, four), `shape must hold integers, found the string "1"`},
		{"nested shape", fileBytes(`{`+entry("a", "F32", `[[1]]`, "[0,4]")+`}`, four), `shape must hold integers, found an array`},
		{"shape not an array", fileBytes(`{`+entry("a", "F32", `1`, "[0,4]")+`}`, four), `the shape of tensor "a" must be a JSON array, found the number 1`},
		{"dimension past uint64", fileBytes(`{`+entry("a", "F32", "[18446744073709551616]", "[0,4]")+`}`, four), `which is too large`},
		{"dimension past int64", fileBytes(`{`+entry("a", "F32", "[9223372036854775808]", "[0,4]")+`}`, four), `which is too large`},
		{"element count overflows", fileBytes(`{`+entry("a", "F32", "[4294967296,4294967296,0]", "[0,0]")+`}`, nil), `the element count of shape [4294967296 4294967296 0] overflows`},
		{"byte size overflows", fileBytes(`{`+entry("a", "F64", "[2305843009213693952]", "[0,0]")+`}`, nil), `the byte size of 2305843009213693952 elements of F64 overflows`},
		{"shape disagrees with offsets", fileBytes(`{`+entry("a", "F32", "[2]", "[0,4]")+`}`, four), `F32 of shape [2] needs 8 bytes, but data_offsets [0, 4] give 4`},
		{"dtype disagrees with offsets", fileBytes(`{`+entry("a", "F64", "[1]", "[0,4]")+`}`, four), `F64 of shape [1] needs 8 bytes`},
		{"offsets reversed", fileBytes(`{`+entry("a", "F32", "[0]", "[4,0]")+`}`, four), `data_offsets [4, 0] end before they begin`},
		{"one offset", fileBytes(`{`+entry("a", "F32", "[1]", "[4]")+`}`, four), `data_offsets must hold 2 integers [begin, end], found 1`},
		{"three offsets", fileBytes(`{`+entry("a", "F32", "[1]", "[0,4,8]")+`}`, eight), `found 3`},
		{"negative offset", fileBytes(`{`+entry("a", "F32", "[1]", "[-4,0]")+`}`, four), `data_offsets holds the negative number -4`},
		{"offset past int64", fileBytes(`{`+entry("a", "F32", "[1]", "[0,18446744073709551615]")+`}`, four), `data_offsets holds 18446744073709551615, which is too large`},
		{"offsets past the data", fileBytes(`{`+entry("a", "F32", "[4]", "[0,16]")+`}`, eight), `truncated: the tensors cover 16 bytes of data but only 8 follow`},
		{"hole at the start", fileBytes(`{`+entry("a", "F32", "[1]", "[4,8]")+`}`, eight), `data buffer bytes [0, 4) are not covered by any tensor (hole before tensor "a")`},
		{"hole between tensors", fileBytes(`{`+a4+`,`+entry("b", "F32", "[1]", "[8,12]")+`}`, f32Bytes(1, 2, 3)), `bytes [4, 8) are not covered by any tensor (hole before tensor "b")`},
		{"overlapping tensors", fileBytes(`{`+entry("a", "F32", "[2]", "[0,8]")+`,`+entry("b", "F32", "[1]", "[4,8]")+`}`, eight), `tensor "b": data_offsets [4, 8] overlap tensor "a", which ends at 8`},
		{"same range twice", fileBytes(`{`+a4+`,`+entry("b", "F32", "[1]", "[0,4]")+`}`, four), `tensor "b": data_offsets [0, 4] overlap tensor "a"`},
		{"bytes after the data", fileBytes(`{`+a4+`}`, eight), `follow the 4-byte data buffer`},
		{"bytes after an empty header", fileBytes(`{}`, []byte{0}), `follow the 0-byte data buffer`},
		{"metadata is a string", fileBytes(`{"__metadata__":"x"}`, nil), `__metadata__ must be an object of strings, found the string "x"`},
		{"metadata is an array", fileBytes(`{"__metadata__":["x"]}`, nil), `__metadata__ must be an object of strings, found an array`},
		{"metadata value is a number", fileBytes(`{"__metadata__":{"k":1}}`, nil), `__metadata__ value for "k" must be a string, found the number 1`},
		{"metadata value is an object", fileBytes(`{"__metadata__":{"k":{}}}`, nil), `value for "k" must be a string, found an object`},
		{"metadata value is null", fileBytes(`{"__metadata__":{"k":null}}`, nil), `value for "k" must be a string, found null`},
		{"metadata value is a boolean", fileBytes(`{"__metadata__":{"k":true}}`, nil), `found the boolean true`},
		{"BOOL byte 2", fileBytes(`{`+entry("a", "BOOL", "[2]", "[0,2]")+`}`, []byte{1, 2}), `tensor "a": BOOL element 1 is the byte 2, not 0 or 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, read := range []struct {
				name string
				fn   func([]byte) (*File, error)
			}{
				{"Parse", Parse},
				{"Read", func(b []byte) (*File, error) { return Read(bytes.NewReader(b)) }},
			} {
				f, err := read.fn(tc.in)
				if err == nil {
					t.Fatalf("%s accepted the file: %v", read.name, f.Names())
				}
				if !errors.Is(err, ErrFormat) {
					t.Errorf("%s: error %q does not wrap ErrFormat", read.name, err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q, want one containing %q", read.name, err, tc.want)
				}
				if f != nil {
					t.Errorf("%s returned a file with its error", read.name)
				}
			}
		})
	}
}

// TestParseAccepts checks unusual but valid files: any key order, padding,
// header whitespace, empty tensors sharing an offset, null or empty
// metadata, an unpadded header and an empty name.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		shapes map[string][]int
		values map[string][]float32
		meta   map[string]string
	}{
		{"keys out of data order, fields reordered",
			fileBytes(`{"b":{"data_offsets":[4,8],"shape":[],"dtype":"F32"},`+entry("a", "F32", "[1]", "[0,4]")+`}`, f32Bytes(1, 2)),
			map[string][]int{"a": {1}, "b": {}}, map[string][]float32{"a": {1}, "b": {2}}, nil},
		{"padding and whitespace",
			fileBytes("{ \"a\" : {\"dtype\":\"F32\",\n\"shape\":[ 1 ],\"data_offsets\":[0,4]}}\n\t  ", f32Bytes(3)),
			map[string][]int{"a": {1}}, map[string][]float32{"a": {3}}, nil},
		{"empty tensors share offsets",
			fileBytes(`{`+entry("z", "F32", "[0]", "[0,0]")+`,`+entry("a", "F16", "[2,0,3]", "[0,0]")+`,`+entry("m", "F32", "[1]", "[0,4]")+`,`+entry("e", "I8", "[0]", "[4,4]")+`}`, f32Bytes(5)),
			map[string][]int{"z": {0}, "a": {2, 0, 3}, "m": {1}, "e": {0}}, map[string][]float32{"m": {5}}, nil},
		{"zero dimension with huge others",
			fileBytes(`{`+entry("a", "F32", "[0,9223372036854775807]", "[0,0]")+`}`, nil),
			map[string][]int{"a": {0, math.MaxInt}}, nil, nil},
		{"null metadata", fileBytes(`{"__metadata__":null}`, nil), map[string][]int{}, nil, nil},
		{"empty metadata, metadata last",
			fileBytes(`{`+entry("a", "F32", "[]", "[0,4]")+`,"__metadata__":{}}`, f32Bytes(-1)),
			map[string][]int{"a": {}}, map[string][]float32{"a": {-1}}, nil},
		{"metadata with escapes",
			fileBytes(`{"__metadata__":{"k\u00e9":"a\"\\\n\u0001é"}}`, nil),
			map[string][]int{}, nil, map[string]string{"ké": "a\"\\\n\x01é"}},
		{"empty name", fileBytes(`{`+entry("", "F32", "[1]", "[0,4]")+`}`, f32Bytes(7)),
			map[string][]int{"": {1}}, map[string][]float32{"": {7}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(tc.shapes) {
				t.Fatalf("names %q, want %d tensors", f.Names(), len(tc.shapes))
			}
			for name, shape := range tc.shapes {
				got, ok := f.Tensors[name]
				if !ok {
					t.Fatalf("no tensor %q in %q", name, f.Names())
				}
				if !slices.Equal(got.Shape(), shape) {
					t.Errorf("%q: shape %v, want %v", name, got.Shape(), shape)
				}
				if want, ok := tc.values[name]; ok && !slices.Equal(got.Data(), want) {
					t.Errorf("%q: values %v, want %v", name, got.Data(), want)
				}
				if _, ok := tc.values[name]; !ok && got.Len() != 0 {
					t.Errorf("%q: %d values, want none", name, got.Len())
				}
			}
			if len(f.Metadata) != len(tc.meta) {
				t.Fatalf("metadata %q, want %q", f.Metadata, tc.meta)
			}
			for k, v := range tc.meta {
				if f.Metadata[k] != v {
					t.Errorf("metadata[%q] = %q, want %q", k, f.Metadata[k], v)
				}
			}
		})
	}
}

// TestConvert checks the conversion of every readable dtype to float32 at
// chosen values (extremes, rounding, signed zero, Inf, NaN payloads).
func TestConvert(t *testing.T) {
	u16 := func(vs ...uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		return b
	}
	u32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	u64 := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	i64 := func(v int64) uint64 { return uint64(v) }
	tests := []struct {
		dtype DType
		data  []byte
		want  []uint32 // float32 bits
	}{
		{F32, u32(0x3f800000, 0x80000000, 0x7fc00001, 0x00000001), []uint32{0x3f800000, 0x80000000, 0x7fc00001, 0x00000001}},
		{F64, u64(math.Float64bits(1.0/3), math.Float64bits(-1e300), math.Float64bits(1e-50), math.Float64bits(math.Copysign(0, -1)), math.Float64bits(math.Inf(-1))),
			[]uint32{math.Float32bits(float32(1.0 / 3)), 0xff800000, 0, 0x80000000, 0xff800000}},
		{F16, u16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c01),
			[]uint32{0x3f800000, 0xc0000000, math.Float32bits(65504), math.Float32bits(0x1p-24), math.Float32bits(1023 * 0x1p-24),
				math.Float32bits(0x1p-14), 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f802000}},
		{BF16, u16(0x3f80, 0xc040, 0x0001, 0x7f80, 0xffc0), []uint32{0x3f800000, 0xc0400000, 0x00010000, 0x7f800000, 0xffc00000}},
		{I64, u64(i64(-3), 1<<53+1, i64(math.MinInt64), math.MaxInt64, 1<<24+1),
			[]uint32{math.Float32bits(-3), math.Float32bits(0x1p53), math.Float32bits(-0x1p63), math.Float32bits(0x1p63), math.Float32bits(1 << 24)}},
		{I32, u32(uint32(1<<31), 1<<24+3, 7), []uint32{math.Float32bits(-0x1p31), math.Float32bits(1<<24 + 4), math.Float32bits(7)}},
		{I16, u16(0x8000, 0x7fff), []uint32{math.Float32bits(-32768), math.Float32bits(32767)}},
		{I8, []byte{0x80, 0x7f, 0xff}, []uint32{math.Float32bits(-128), math.Float32bits(127), math.Float32bits(-1)}},
		{U8, []byte{0, 200, 255}, []uint32{0, math.Float32bits(200), math.Float32bits(255)}},
		{BOOL, []byte{1, 0, 1}, []uint32{math.Float32bits(1), 0, math.Float32bits(1)}},
	}
	for _, tc := range tests {
		t.Run(string(tc.dtype), func(t *testing.T) {
			n := len(tc.data) / tc.dtype.Size()
			header := `{` + entry("x", string(tc.dtype), "["+strconv.Itoa(n)+"]", "[0,"+strconv.Itoa(len(tc.data))+"]") + `}`
			f, err := Parse(fileBytes(header, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uint32, n)
			for i, v := range f.Tensors["x"].Data() {
				got[i] = math.Float32bits(v)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("bits %#08x, want %#08x", got, tc.want)
			}
		})
	}
}

// TestHalfToFloat32Exhaustive checks all 65536 binary16 values against the
// definition (-1)^s · 2^(e-15) · (1 + m/1024), or 2^-14 · m/1024 for
// subnormals, computed in float64.
func TestHalfToFloat32Exhaustive(t *testing.T) {
	for h := range 1 << 16 {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		got := halfToFloat32(uint16(h))
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			if !math.IsNaN(float64(got)) || math.Float32bits(got)&0x7fffff != uint32(m)<<13 || math.Signbit(float64(got)) != (s == 1) {
				t.Fatalf("half %#04x: got bits %#08x, want NaN with payload %#x", h, math.Float32bits(got), m)
			}
			continue
		case e == 0:
			want = math.Ldexp(float64(m)/1024, -14)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("half %#04x: got %g (bits %#08x), want %g", h, got, math.Float32bits(got), want)
		}
	}
}

// TestHostileInputAllocatesLittle checks that headers claiming huge sizes
// the input does not back cost no large allocation.
func TestHostileInputAllocatesLittle(t *testing.T) {
	huge := fileBytes(`{`+entry("a", "F32", "[1000000000]", "[0,4000000000]")+`}`, nil)
	bigHeader := append(binary.LittleEndian.AppendUint64(nil, MaxHeaderSize-1), "{}"...)
	tests := []struct {
		name string
		fn   func() error
	}{
		{"Parse, 4 GB of data claimed", func() error { _, err := Parse(huge); return err }},
		{"Read, 4 GB of data claimed", func() error { _, err := Read(bytes.NewReader(huge)); return err }},
		{"Read, 100 MB header claimed", func() error { _, err := Read(bytes.NewReader(bigHeader)); return err }},
		{"ReadHeader, 100 MB header claimed", func() error { _, err := ReadHeader(bytes.NewReader(bigHeader)); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tc.fn()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v, want a format error", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Fatalf("allocated %d bytes", got)
			}
		})
	}
}

// TestReadHeader checks header-only inspection: offsets and dtypes in data
// order, dtypes that Parse cannot convert, the reader left at the data, and
// LoadHeader's check of the file size.
func TestReadHeader(t *testing.T) {
	header := `{"__metadata__":{"k":"v"},` + entry("b", "U16", "[2]", "[4,8]") + `,` + entry("a", "F32", "[1]", "[0,4]") + `}`
	data := f32Bytes(1, 2)
	file := fileBytes(header, data)
	r := bytes.NewReader(file)
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []TensorInfo{
		{Name: "a", DType: F32, Shape: []int{1}, Begin: 0, End: 4},
		{Name: "b", DType: U16, Shape: []int{2}, Begin: 4, End: 8},
	}
	if !slices.EqualFunc(h.Tensors, want, func(a, b TensorInfo) bool {
		return a.Name == b.Name && a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && a.Begin == b.Begin && a.End == b.End
	}) {
		t.Fatalf("tensors %+v, want %+v", h.Tensors, want)
	}
	if h.Metadata["k"] != "v" || h.HeaderLen != len(header) || h.DataLen != 8 {
		t.Fatalf("header %+v", h)
	}
	if r.Len() != len(data) {
		t.Fatalf("ReadHeader left %d bytes unread, want the %d data bytes", r.Len(), len(data))
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"whole", file, ""},
		{"truncated", file[:len(file)-1], "truncated: the tensors cover 8 bytes of data but only 7"},
		{"trailing", append(slices.Clone(file), 0, 0), "2 bytes follow the 8-byte data buffer"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadHeader(path)
		if tc.want == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path)) {
			t.Errorf("%s: error %v, want one containing %q and the path", tc.name, err, tc.want)
		}
	}
	if _, err := LoadHeader(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("missing file: error %v, want a non-format error", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("Load of a missing file: error %v, want a non-format error", err)
	}
}

// errReader fails after its content.
type errReader struct {
	r   *bytes.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.r.Len() == 0 {
		return 0, e.err
	}
	return e.r.Read(p)
}

// TestReadIOError checks that a failing reader's error is returned (not
// reported as a malformed file) wherever it strikes.
func TestReadIOError(t *testing.T) {
	file := writeBytes(t, goldenFile())
	errBroken := errors.New("broken pipe")
	for _, cut := range []int{0, 5, 8, 20, len(file) - 3, len(file)} {
		_, err := Read(&errReader{bytes.NewReader(file[:cut]), errBroken})
		if !errors.Is(err, errBroken) || errors.Is(err, ErrFormat) {
			t.Errorf("cut at %d: error %v, want %v", cut, err, errBroken)
		}
	}
}
