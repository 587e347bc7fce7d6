package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyBytes builds an NPY file of version major.0 with header text dict
// (padded with spaces and "\n" to a multiple of 64 bytes as numpy.save
// pads it) followed by payload.
func npyBytes(major byte, dict string, payload []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	pad := (64 - (pre+len(dict)+1)%64) % 64
	h := dict + strings.Repeat(" ", pad) + "\n"
	b := append([]byte(npyMagic), major, 0)
	if major > 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	}
	return append(append(b, h...), payload...)
}

// TestReadNPY reads headers as numpy.save writes them (version 1.0, the
// dict's keys in numpy's order, padding to 64 bytes; no numpy was at hand,
// so they are built from the format's description in numpy.lib.format)
// and variants numpy also produces or accepts: other versions, key orders,
// quotes, 0-d and 1-d shapes, big-endian values.
func TestReadNPY(t *testing.T) {
	le32 := func(vs ...float32) (b []byte) {
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	be64 := func(vs ...float64) (b []byte) {
		for _, v := range vs {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	cases := []struct {
		name   string
		in     []byte
		descr  string
		shape  []int
		values []float64
	}{
		{"uint8 2x3", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", []byte{0, 1, 2, 253, 254, 255}),
			"|u1", []int{2, 3}, []float64{0, 1, 2, 253, 254, 255}},
		{"float32 1-d", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", le32(-1, 0.5, 1)),
			"<f4", []int{3}, []float64{-1, 0.5, 1}},
		{"float64 big-endian, version 2", npyBytes(2, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }", be64(math.Pi, -2)),
			">f8", []int{1, 2}, []float64{math.Pi, -2}},
		{"0-d int16, version 3", npyBytes(3, "{'descr': '<i2', 'fortran_order': False, 'shape': (), }", []byte{0xfe, 0xff}),
			"<i2", nil, []float64{-2}},
		{"keys reordered, double quotes, no trailing comma", npyBytes(1, `{"shape": (2,), "fortran_order": False, "descr": "|i1"}`, []byte{0x80, 0x7f}),
			"|i1", []int{2}, []float64{-128, 127}},
		{"empty array", npyBytes(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (0, 28, 28), }", nil),
			"<u4", []int{0, 28, 28}, nil},
		{"uint64", npyBytes(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", binary.LittleEndian.AppendUint64(nil, 1<<40)),
			"<u8", []int{1}, []float64{1 << 40}},
	}
	for _, c := range cases {
		x, err := ReadNPY(bytes.NewReader(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if x.Descr() != c.descr || !slices.Equal(x.Shape, c.shape) || x.Len()*x.Size != len(x.Data) {
			t.Errorf("%s: descr %s shape %v, %d bytes; want %s %v", c.name, x.Descr(), x.Shape, len(x.Data), c.descr, c.shape)
			continue
		}
		for i, want := range c.values {
			if got := x.Value(i); got != want {
				t.Errorf("%s: value %d = %g, want %g", c.name, i, got, want)
			}
		}
	}
}

// TestWriteNPYRoundTrip writes arrays with WriteNPY and checks the layout
// numpy.save uses (version 1.0, values at a multiple of 64 bytes) and that
// ReadNPY and ReadNPYFile give them back.
func TestWriteNPYRoundTrip(t *testing.T) {
	cases := []*NPY{
		{Kind: 'u', Size: 1, Shape: []int{2, 2, 3}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{Kind: 'f', Size: 4, Shape: []int{1}, Data: []byte{0, 0, 0x80, 0x3f}},
		{Kind: 'f', Size: 8, BigEndian: true, Shape: []int{}, Data: make([]byte, 8)},
		{Kind: 'i', Size: 2, Shape: []int{3, 0}, Data: []byte{}},
	}
	dir := t.TempDir()
	for i, want := range cases {
		var buf bytes.Buffer
		if err := WriteNPY(&buf, want); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if string(b[:8]) != npyMagic+"\x01\x00" || (len(b)-len(want.Data))%64 != 0 || b[len(b)-len(want.Data)-1] != '\n' {
			t.Errorf("case %d: layout %q", i, b)
		}
		path := filepath.Join(dir, "a.npy")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, read := range []func() (*NPY, error){
			func() (*NPY, error) { return ReadNPY(bytes.NewReader(b)) },
			func() (*NPY, error) { return ReadNPYFile(path) },
		} {
			got, err := read()
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if got.Descr() != want.Descr() || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
				t.Errorf("case %d: read %s %v %v, wrote %s %v %v", i, got.Descr(), got.Shape, got.Data, want.Descr(), want.Shape, want.Data)
			}
		}
	}
}

// TestReadNPYMalformed checks that malformed and unsupported files are
// errors wrapping ErrNPY that say what is wrong, from a stream and from a
// file (whose size is checked against the header first).
func TestReadNPYMalformed(t *testing.T) {
	u8 := func(shape string) string {
		return "{'descr': '|u1', 'fortran_order': False, 'shape': " + shape + ", }"
	}
	long := make([]byte, 10)
	copy(long, npyMagic+"\x02\x00")
	long = binary.LittleEndian.AppendUint32(long[:8], 1<<30)
	cases := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "unexpected EOF"},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x00\x00"), "want"},
		{"version 4", []byte(npyMagic + "\x04\x00\x00\x00"), "version 4.0"},
		{"header beyond limit", long, "more than the"},
		{"truncated header", npyBytes(1, u8("(2,)"), nil)[:30], "unexpected EOF"},
		{"not a dict", npyBytes(1, "['descr']", nil), "not a dict"},
		{"structured type", npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", nil), "quoted string"},
		{"complex type", npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", nil), "<c8"},
		{"float16", npyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", nil), "<f2"},
		{"object type", npyBytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", nil), "|O"},
		{"fortran order", npyBytes(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", make([]byte, 4)), "Fortran"},
		{"missing key", npyBytes(1, "{'descr': '|u1', 'shape': (2,), }", make([]byte, 2)), "want the keys"},
		{"unknown key", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'x': 1}", make([]byte, 2)), "unknown key"},
		{"repeated key", npyBytes(1, "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", make([]byte, 2)), "twice"},
		{"negative dimension", npyBytes(1, u8("(-2,)"), nil), "not an integer"},
		{"huge dimension", npyBytes(1, u8("(99999999999999999999,)"), nil), "not an integer"},
		{"beyond the byte limit", npyBytes(1, u8("(2147483647, 2147483647, 8)"), make([]byte, 100)), "exceeds"},
		{"too many dimensions", npyBytes(1, u8("("+strings.Repeat("1, ", MaxNPYDims+1)+")"), make([]byte, 1)), "dimensions"},
		{"short data", npyBytes(1, u8("(1000, 1000)"), make([]byte, 100)), "100 bytes of values"},
		{"trailing data", npyBytes(1, u8("(2,)"), make([]byte, 3)), "after"},
		{"text after the dict", npyBytes(1, u8("(2,)")+" x", make([]byte, 2)), "after the dict"},
		{"unterminated tuple", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2", nil), "after dimension"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		_, err := ReadNPY(bytes.NewReader(c.in))
		if err == nil || !errors.Is(err, ErrNPY) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: ReadNPY: %v, want ErrNPY and %q", c.name, err, c.msg)
		}
		path := filepath.Join(dir, "bad.npy")
		if err := os.WriteFile(path, c.in, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadNPYFile(path); err == nil || !errors.Is(err, ErrNPY) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: ReadNPYFile: %v, want ErrNPY naming the file", c.name, err)
		}
	}
}

// TestReadNPYHostileHeaderAllocatesLittle reads headers that promise
// gigabytes of values followed by 100 bytes.
func TestReadNPYHostileHeaderAllocatesLittle(t *testing.T) {
	for _, shape := range []string{"(1073741824, 4)", "(2147483647, 4, 2)"} {
		in := npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': "+shape+", }", make([]byte, 100))
		var err error
		a := allocated(func() { _, err = ReadNPY(bytes.NewReader(in)) })
		if err == nil || !errors.Is(err, ErrNPY) {
			t.Fatalf("%s: %v, want an error", shape, err)
		}
		if a > 1<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", shape, a, len(in))
		}
	}
}

// FuzzNPY checks that ReadNPY never panics, allocates at most a few times
// the bytes it is given, and that what it accepts WriteNPY writes back to
// the same array.
func FuzzNPY(f *testing.F) {
	f.Add(npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", []byte{1, 2, 3, 4}))
	f.Add(npyBytes(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", []byte{0, 0, 0x80, 0x3f}))
	f.Add(npyBytes(3, "{'descr': '>i8', 'fortran_order': False, 'shape': (), }", make([]byte, 8)))
	f.Add(npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", make([]byte, 10)))
	f.Add([]byte(npyMagic))
	f.Fuzz(func(t *testing.T, in []byte) {
		var x *NPY
		var err error
		a := allocated(func() { x, err = ReadNPY(bytes.NewReader(in)) })
		if limit := uint64(4*len(in) + 1<<20); a > limit {
			t.Fatalf("allocated %d bytes for %d bytes (limit %d)", a, len(in), limit)
		}
		if err != nil {
			return
		}
		if len(x.Data) != x.Len()*x.Size {
			t.Fatalf("%d data bytes for shape %v of %s", len(x.Data), x.Shape, x.Descr())
		}
		for i := 0; i < min(x.Len(), 64); i++ {
			x.Value(i)
		}
		var out bytes.Buffer
		if err := WriteNPY(&out, x); err != nil {
			t.Fatal(err)
		}
		y, err := ReadNPY(&out)
		if err != nil {
			t.Fatalf("rereading what WriteNPY wrote: %v", err)
		}
		if y.Descr() != x.Descr() || !slices.Equal(y.Shape, x.Shape) || !bytes.Equal(y.Data, x.Data) {
			t.Fatalf("read %s %v, wrote back %s %v", x.Descr(), x.Shape, y.Descr(), y.Shape)
		}
	})
}
