package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/kallima-gan/kallima/tensor"
)

// IDX files (the format of the MNIST files, described on the MNIST page by
// LeCun, Cortes and Burges) hold one dense array:
//
//	bytes 0-1  0x00 0x00
//	byte  2    element type (IDXType)
//	byte  3    number of dimensions d
//	4*d bytes  each dimension's size, big-endian uint32
//	the values, row-major (last index fastest), big-endian
//
// The reader takes raw or gzip-compressed files (recognised by the gzip
// magic bytes 0x1f 0x8b, so the name does not matter).

// IDXType is an IDX file's element type, its third magic byte.
type IDXType byte

// The IDX element types.
const (
	IDXUint8   IDXType = 0x08 // unsigned byte (MNIST's images and labels)
	IDXInt8    IDXType = 0x09 // signed byte
	IDXInt16   IDXType = 0x0B // big-endian int16
	IDXInt32   IDXType = 0x0C // big-endian int32
	IDXFloat32 IDXType = 0x0D // big-endian IEEE 754 float32
	IDXFloat64 IDXType = 0x0E // big-endian IEEE 754 float64
)

// Size is the number of bytes of one value of type t, or 0 for a code that
// is not an IDX type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// String returns the IDX element type's name.
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("IDXType(0x%02x)", byte(t))
}

// Limits on what ReadIDX accepts. Beyond them the header is rejected before
// anything is allocated; within them the payload is read in growing chunks,
// so a header that promises more data than the file holds costs at most
// about twice the bytes actually present.
const (
	// MaxIDXDims is the largest number of dimensions accepted.
	MaxIDXDims = 16
	// MaxIDXBytes is the largest payload (values times value size) accepted:
	// 16 GiB.
	MaxIDXBytes = 1 << 34
)

// ErrIDX is wrapped by every error that reports malformed IDX data.
var ErrIDX = errors.New("malformed IDX data")

// IDX is the array held by an IDX file.
type IDX struct {
	Type IDXType
	Dims []int  // dimension sizes, outermost first
	Data []byte // the values as stored: big-endian, len = Len()*Type.Size()
}

// Len is the number of values: the product of Dims.
func (x *IDX) Len() int {
	n := 1
	for _, d := range x.Dims {
		n *= d
	}
	return n
}

// Value returns value i (0 <= i < Len) converted to float64. It panics if
// i is out of range or the type is not an IDX type.
func (x *IDX) Value(i int) float64 {
	s := x.Type.Size()
	if s == 0 || i < 0 || (i+1)*s > len(x.Data) {
		panic(fmt.Sprintf("data.IDX.Value: index %d of %d %s values", i, len(x.Data)/max(s, 1), x.Type))
	}
	b := x.Data[i*s : (i+1)*s]
	switch x.Type {
	case IDXUint8:
		return float64(b[0])
	case IDXInt8:
		return float64(int8(b[0]))
	case IDXInt16:
		return float64(int16(binary.BigEndian.Uint16(b)))
	case IDXInt32:
		return float64(int32(binary.BigEndian.Uint32(b)))
	case IDXFloat32:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	default: // IDXFloat64
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	}
}

// ReadIDX reads one IDX array, raw or gzip-compressed, from r. The stream
// must end right after the values. Malformed data gives an error wrapping
// ErrIDX; a failing reader's error is wrapped as it is.
func ReadIDX(r io.Reader) (*IDX, error) {
	return readIDX(r, -1)
}

// ReadIDXFile reads the IDX file at path (raw or gzip-compressed). Errors
// read "read PATH: ...".
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	x, err := readIDX(f, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return x, nil
}

// readIDX reads an IDX array from r, whose total length is size bytes when
// size >= 0 (a regular file), which lets a raw file's header be checked
// against the file's length before anything is allocated.
func readIDX(r io.Reader, size int64) (*IDX, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		x, err := parseIDX(zr, -1)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return x, nil
	}
	return parseIDX(br, size)
}

// parseIDX reads the header and the values from an uncompressed stream of
// size bytes (-1: unknown).
func parseIDX(r io.Reader, size int64) (*IDX, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("IDX header: %w (%w)", noEOF(err), ErrIDX)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("IDX header: magic starts 0x%02x 0x%02x, want 0x00 0x00: %w", head[0], head[1], ErrIDX)
	}
	typ := IDXType(head[2])
	if typ.Size() == 0 {
		return nil, fmt.Errorf("IDX header: element type 0x%02x is not one of 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32), 0x0e (float64): %w", head[2], ErrIDX)
	}
	nd := int(head[3])
	if nd == 0 || nd > MaxIDXDims {
		return nil, fmt.Errorf("IDX header: %d dimensions, want 1 to %d: %w", nd, MaxIDXDims, ErrIDX)
	}
	var db [4 * MaxIDXDims]byte
	if _, err := io.ReadFull(r, db[:4*nd]); err != nil {
		return nil, fmt.Errorf("IDX header: %d dimension sizes: %w (%w)", nd, noEOF(err), ErrIDX)
	}
	dims := make([]int, nd)
	need := int64(typ.Size())
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(db[4*i:]))
		dims[i] = int(d)
		if d != 0 && need > MaxIDXBytes/d {
			need = MaxIDXBytes + 1
		} else {
			need *= d
		}
	}
	if need > MaxIDXBytes {
		return nil, fmt.Errorf("IDX header: dimensions %v of %s exceed the %d-byte limit: %w", dims, typ, int64(MaxIDXBytes), ErrIDX)
	}
	x := &IDX{Type: typ, Dims: dims}
	if size >= 0 {
		if have := size - 4 - 4*int64(nd); have != need {
			return nil, fmt.Errorf("IDX data: %d bytes of values, dimensions %v of %s need %d: %w", have, dims, typ, need, ErrIDX)
		}
	}
	data, err := readN(r, need)
	if err != nil {
		return nil, err
	}
	x.Data = data
	return x, nil
}

// readN reads exactly need bytes and checks that the stream ends there. It
// grows its buffer as data arrives, so its allocation is bounded by about
// twice the bytes present, whatever need says.
func readN(r io.Reader, need int64) ([]byte, error) {
	const chunk = 64 << 10
	buf := make([]byte, 0, min(need, chunk))
	for int64(len(buf)) < need {
		if len(buf) == cap(buf) {
			next := min(need, max(2*int64(cap(buf)), chunk))
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < need {
			return nil, fmt.Errorf("IDX data: %d bytes of values, the header needs %d: %w", len(buf), need, ErrIDX)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("IDX data: %w", err)
		}
	}
	// The stream must end here (for gzip this also checks the CRC).
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			extra, _ := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			return nil, fmt.Errorf("IDX data: %s bytes after the %d bytes of values: %w", atLeast(1+extra, 1<<20), need, ErrIDX)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("IDX data: %w", err)
		}
	}
}

func atLeast(n, limit int64) string {
	if n > limit {
		return fmt.Sprintf("over %d", limit)
	}
	return fmt.Sprint(n)
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF: a file that ends in
// its header is truncated.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// WriteIDX writes x as a raw IDX file. It panics if x is inconsistent (an
// unknown type, no or too many dimensions, a dimension beyond uint32, or
// Data not Len()*Type.Size() bytes long).
func WriteIDX(w io.Writer, x *IDX) error {
	if x.Type.Size() == 0 || len(x.Dims) == 0 || len(x.Dims) > MaxIDXDims || len(x.Data) != x.Len()*x.Type.Size() {
		panic(fmt.Sprintf("data.WriteIDX: type %s, dims %v, %d data bytes", x.Type, x.Dims, len(x.Data)))
	}
	head := make([]byte, 4+4*len(x.Dims))
	head[2], head[3] = byte(x.Type), byte(len(x.Dims))
	for i, d := range x.Dims {
		if d < 0 || int64(d) > math.MaxUint32 {
			panic(fmt.Sprintf("data.WriteIDX: dimension %d is %d", i, d))
		}
		binary.BigEndian.PutUint32(head[4+4*i:], uint32(d))
	}
	if _, err := w.Write(head); err != nil {
		return fmt.Errorf("write IDX: %w", err)
	}
	if _, err := w.Write(x.Data); err != nil {
		return fmt.Errorf("write IDX: %w", err)
	}
	return nil
}

// LoadIDXImages loads an MNIST-style pair of IDX files: images, uint8 of
// dimensions [N, H, W], and labels, uint8 of dimensions [N]. The Set's
// Images are [N, 1, H, W] with byte v mapped to v/127.5 - 1 in [-1, 1], its
// Labels the label bytes. Errors name the file at fault (both when their
// counts differ).
func LoadIDXImages(imagesPath, labelsPath string) (*Set, error) {
	im, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if im.Type != IDXUint8 || len(im.Dims) != 3 {
		return nil, fmt.Errorf("read %s: images are %s of dimensions %v, want uint8 [N, H, W]: %w", imagesPath, im.Type, im.Dims, ErrIDX)
	}
	n, h, w := im.Dims[0], im.Dims[1], im.Dims[2]
	if n == 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("read %s: no images (dimensions %v): %w", imagesPath, im.Dims, ErrIDX)
	}
	lb, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if lb.Type != IDXUint8 || len(lb.Dims) != 1 {
		return nil, fmt.Errorf("read %s: labels are %s of dimensions %v, want uint8 [N]: %w", labelsPath, lb.Type, lb.Dims, ErrIDX)
	}
	if lb.Dims[0] != n {
		return nil, fmt.Errorf("%s holds %d labels but %s holds %d images: %w", labelsPath, lb.Dims[0], imagesPath, n, ErrIDX)
	}
	var lut [256]float32
	for v := range lut {
		lut[v] = float32(v)/127.5 - 1
	}
	pix := make([]float32, len(im.Data)) // not from tensor's pool: no arena can reclaim it
	for i, v := range im.Data {
		pix[i] = lut[v]
	}
	labels := make([]int, n)
	classes := 0
	for i, v := range lb.Data {
		labels[i] = int(v)
		classes = max(classes, int(v)+1)
	}
	names := make([]string, classes)
	for k := range names {
		names[k] = fmt.Sprint(k)
	}
	return &Set{
		Images:  tensor.FromSlice(pix, n, 1, h, w),
		Labels:  labels,
		Classes: names,
	}, nil
}
