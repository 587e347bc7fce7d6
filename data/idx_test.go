package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// idxBytes builds a raw IDX file: header for typ and dims, then payload.
func idxBytes(typ byte, dims []uint32, payload []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, payload...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDX(t *testing.T) {
	f32 := func(vs ...float32) (b []byte) {
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(v))
		}
		return
	}
	f64 := func(vs ...float64) (b []byte) {
		for _, v := range vs {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return
	}
	cases := []struct {
		name    string
		typ     byte
		dims    []uint32
		payload []byte
		want    []float64
	}{
		{"uint8", 0x08, []uint32{2, 3}, []byte{0, 1, 2, 127, 128, 255}, []float64{0, 1, 2, 127, 128, 255}},
		{"int8", 0x09, []uint32{4}, []byte{0, 1, 0x80, 0xff}, []float64{0, 1, -128, -1}},
		{"int16", 0x0B, []uint32{1, 1, 3}, []byte{0x00, 0x01, 0xff, 0xfe, 0x80, 0x00}, []float64{1, -2, -32768}},
		{"int32", 0x0C, []uint32{2}, []byte{0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff}, []float64{65536, -1}},
		{"float32", 0x0D, []uint32{3}, f32(1.5, -2.25, 1e-3), []float64{1.5, -2.25, float64(float32(1e-3))}},
		{"float64", 0x0E, []uint32{1, 2}, f64(math.Pi, -1e300), []float64{math.Pi, -1e300}},
		{"empty", 0x08, []uint32{0, 28, 28}, nil, nil},
	}
	for _, c := range cases {
		raw := idxBytes(c.typ, c.dims, c.payload)
		for _, enc := range []string{"raw", "gzip"} {
			in := raw
			if enc == "gzip" {
				in = gzipBytes(t, raw)
			}
			x, err := ReadIDX(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, enc, err)
			}
			if byte(x.Type) != c.typ || len(x.Dims) != len(c.dims) || x.Len() != len(c.want) {
				t.Fatalf("%s %s: type %s dims %v len %d", c.name, enc, x.Type, x.Dims, x.Len())
			}
			for i, d := range c.dims {
				if x.Dims[i] != int(d) {
					t.Fatalf("%s %s: dims %v, want %v", c.name, enc, x.Dims, c.dims)
				}
			}
			for i, w := range c.want {
				if g := x.Value(i); g != w {
					t.Errorf("%s %s: value %d = %g, want %g", c.name, enc, i, g, w)
				}
			}
			var out bytes.Buffer
			if err := WriteIDX(&out, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), raw) {
				t.Errorf("%s %s: WriteIDX did not reproduce the file", c.name, enc)
			}
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	ok := idxBytes(0x08, []uint32{2, 2}, []byte{1, 2, 3, 4})
	badCRC := gzipBytes(t, ok)
	badCRC[len(badCRC)-8] ^= 0xff
	cases := []struct {
		name string
		in   []byte
		msg  string // substring of the error
		idx  bool   // wraps ErrIDX
	}{
		{"empty file", nil, "IDX header: unexpected EOF", true},
		{"short header", []byte{0, 0, 8}, "IDX header: unexpected EOF", true},
		{"bad magic", []byte{0x50, 0x4b, 8, 1, 0, 0, 0, 0}, "magic starts 0x50 0x4b", true},
		{"unknown type", idxBytes(0x0A, []uint32{1}, []byte{0}), "element type 0x0a", true},
		{"no dims", idxBytes(0x08, nil, nil), "0 dimensions", true},
		{"17 dims", idxBytes(0x08, make([]uint32, 17), nil), "17 dimensions", true},
		{"short dims", []byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, "3 dimension sizes: unexpected EOF", true},
		{"short data", idxBytes(0x08, []uint32{2, 2}, []byte{1, 2, 3}), "3 bytes of values, the header needs 4", true},
		{"short data int32", idxBytes(0x0C, []uint32{2}, []byte{1, 2, 3, 4, 5}), "5 bytes of values, the header needs 8", true},
		{"trailing data", append(append([]byte{}, ok...), 9, 9), "2 bytes after the 4 bytes of values", true},
		{"huge dims", idxBytes(0x0E, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), "exceed the 17179869184-byte limit", true},
		{"gzip trailing", gzipBytes(t, append(append([]byte{}, ok...), 0)), "gzip: IDX data: 1 bytes after", true},
		{"gzip short", gzipBytes(t, ok[:len(ok)-1]), "gzip: IDX data: 3 bytes of values", true},
		{"gzip bad crc", badCRC, "gzip: IDX data: gzip: invalid checksum", false},
		{"gzip bad header", []byte{0x1f, 0x8b, 0, 0}, "gzip: ", false},
	}
	for _, c := range cases {
		x, err := ReadIDX(bytes.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: accepted, got %+v", c.name, x)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q, want it to contain %q", c.name, err, c.msg)
		}
		if errors.Is(err, ErrIDX) != c.idx {
			t.Errorf("%s: errors.Is(err, ErrIDX) = %v, want %v (%v)", c.name, !c.idx, c.idx, err)
		}
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

func TestReadIDXHostileHeaderAllocatesLittle(t *testing.T) {
	// Headers that promise 4 GiB and 16 GiB of values, followed by 100 bytes.
	for _, dims := range [][]uint32{{1 << 30, 4}, {1 << 31, 1 << 2, 2}} {
		raw := idxBytes(0x08, dims, make([]byte, 100))
		for _, in := range [][]byte{raw, gzipBytes(t, raw)} {
			var err error
			a := allocated(func() { _, err = ReadIDX(bytes.NewReader(in)) })
			if err == nil || !errors.Is(err, ErrIDX) || !strings.Contains(err.Error(), "100 bytes of values") {
				t.Fatalf("dims %v: err %v", dims, err)
			}
			if a > 1<<20 {
				t.Fatalf("dims %v: allocated %d bytes for a %d-byte input", dims, a, len(in))
			}
		}
	}
	// A regular file is checked against its size before any payload is read.
	p := filepath.Join(t.TempDir(), "hostile")
	if err := os.WriteFile(p, idxBytes(0x08, []uint32{1 << 31, 4}, make([]byte, 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if a := allocated(func() { _, err = ReadIDXFile(p) }); a > 64<<10 {
		t.Fatalf("ReadIDXFile allocated %d bytes", a)
	}
	if err == nil || !strings.Contains(err.Error(), "read "+p+": IDX data: 1000 bytes of values, dimensions [2147483648 4] of uint8 need 8589934592") {
		t.Fatalf("err %v", err)
	}
}

func TestReadIDXFile(t *testing.T) {
	dir := t.TempDir()
	raw := idxBytes(0x08, []uint32{3}, []byte{7, 8, 9})
	plain, gz := filepath.Join(dir, "a-idx1-ubyte"), filepath.Join(dir, "a-idx1-ubyte.gz")
	os.WriteFile(plain, raw, 0o644)
	os.WriteFile(gz, gzipBytes(t, raw), 0o644)
	for _, p := range []string{plain, gz} {
		x, err := ReadIDXFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x.Data, []byte{7, 8, 9}) {
			t.Fatalf("%s: data %v", p, x.Data)
		}
	}
	if _, err := ReadIDXFile(filepath.Join(dir, "nope")); err == nil || !errors.Is(err, os.ErrNotExist) ||
		!strings.HasPrefix(err.Error(), "read "+filepath.Join(dir, "nope")+": ") {
		t.Fatalf("missing file: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, raw[:len(raw)-1], 0o644)
	if _, err := ReadIDXFile(short); err == nil || err.Error() != "read "+short+": IDX data: 2 bytes of values, dimensions [3] of uint8 need 3: malformed IDX data" {
		t.Fatalf("short file: %v", err)
	}
}

func TestLoadIDXImages(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Three 2x2 images and their labels.
	pix := []byte{0, 255, 51, 127, 1, 2, 3, 4, 10, 20, 30, 40}
	im := write("im", gzipBytes(t, idxBytes(0x08, []uint32{3, 2, 2}, pix)))
	lb := write("lb", idxBytes(0x08, []uint32{3}, []byte{4, 0, 9}))
	s, err := LoadIDXImages(im, lb)
	if err != nil {
		t.Fatal(err)
	}
	if sh := s.Images.Shape(); len(sh) != 4 || sh[0] != 3 || sh[1] != 1 || sh[2] != 2 || sh[3] != 2 {
		t.Fatalf("shape %v", sh)
	}
	for i, v := range s.Images.Data() {
		if want := float32(pix[i])/127.5 - 1; math.Abs(float64(v-want)) > 1e-7 {
			t.Fatalf("pixel %d = %g, want %g", i, v, want)
		}
	}
	if s.Images.Data()[0] != -1 || s.Images.Data()[1] != 1 {
		t.Fatalf("0 and 255 map to %g and %g, want -1 and 1", s.Images.Data()[0], s.Images.Data()[1])
	}
	if len(s.Labels) != 3 || s.Labels[0] != 4 || s.Labels[1] != 0 || s.Labels[2] != 9 || len(s.Classes) != 10 {
		t.Fatalf("labels %v classes %v", s.Labels, s.Classes)
	}
	img, label := s.Get(2)
	if len(img) != 4 || label != 9 || img[0] != float32(10)/127.5-1 {
		t.Fatalf("Get(2) = %v, %d", img, label)
	}

	twoLabels := write("lb2", idxBytes(0x08, []uint32{2}, []byte{1, 2}))
	int16Images := write("im16", idxBytes(0x0B, []uint32{1, 1, 1}, []byte{0, 1}))
	flatImages := write("imflat", idxBytes(0x08, []uint32{12}, pix))
	labels2D := write("lb2d", idxBytes(0x08, []uint32{3, 1}, []byte{1, 2, 3}))
	cases := []struct {
		im, lb, msg string
	}{
		{im, twoLabels, lb + "2 holds 2 labels but " + im + " holds 3 images"},
		{int16Images, lb, "read " + int16Images + ": images are int16 of dimensions [1 1 1], want uint8 [N, H, W]"},
		{flatImages, lb, "read " + flatImages + ": images are uint8 of dimensions [12]"},
		{im, labels2D, "read " + labels2D + ": labels are uint8 of dimensions [3 1], want uint8 [N]"},
		{im, filepath.Join(dir, "missing"), "read " + filepath.Join(dir, "missing")},
	}
	for _, c := range cases {
		if _, err := LoadIDXImages(c.im, c.lb); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("LoadIDXImages(%s, %s): %v, want %q", c.im, c.lb, err, c.msg)
		}
	}
}

// FuzzIDX checks that ReadIDX never panics, allocates at most a few times
// the bytes it is given (decompressed, for gzip) and, when it accepts a raw
// file, that WriteIDX reproduces it.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(0x08, []uint32{2, 2}, []byte{1, 2, 3, 4}))
	f.Add(idxBytes(0x0D, []uint32{1}, []byte{0x3f, 0x80, 0, 0}))
	f.Add(idxBytes(0x0E, []uint32{1, 1}, make([]byte, 8)))
	f.Add(idxBytes(0x08, []uint32{1 << 31, 4}, make([]byte, 10)))
	f.Add(gzipBytes(f, idxBytes(0x08, []uint32{3}, []byte{7, 8, 9})))
	f.Add(gzipBytes(f, idxBytes(0x0C, []uint32{1 << 20, 1 << 10}, make([]byte, 64))))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		present := int64(len(in))
		gz := len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(in))
			if err == nil {
				n, _ := io.Copy(io.Discard, io.LimitReader(zr, 64<<20))
				present += n
			}
		}
		var x *IDX
		var err error
		a := allocated(func() { x, err = ReadIDX(bytes.NewReader(in)) })
		if limit := uint64(4*present + 1<<20); a > limit {
			t.Fatalf("allocated %d bytes for %d bytes present (limit %d)", a, present, limit)
		}
		if err != nil {
			return
		}
		if len(x.Data) != x.Len()*x.Type.Size() {
			t.Fatalf("%d data bytes for dims %v of %s", len(x.Data), x.Dims, x.Type)
		}
		for i := 0; i < min(x.Len(), 64); i++ {
			x.Value(i)
		}
		if !gz {
			var out bytes.Buffer
			if err := WriteIDX(&out, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("accepted %x but writes back %x", in, out.Bytes())
			}
		}
	})
}
