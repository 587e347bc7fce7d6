package data

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// NPY files (NumPy's own format for one array, written by numpy.save and
// described in numpy.lib.format) are:
//
//	bytes 0-5  "\x93NUMPY"
//	bytes 6-7  format version, major and minor (1.0, 2.0 or 3.0)
//	2 bytes    header length, little-endian uint16 (version 1), or
//	4 bytes    little-endian uint32 (versions 2 and 3)
//	the header, a Python dict literal padded with spaces and ended by
//	           "\n": {'descr': '<f4', 'fortran_order': False, 'shape': (N, 28, 28), }
//	the values
//
// The reader takes the numeric types of images: unsigned and signed
// integers of 1, 2, 4 and 8 bytes and floats of 4 and 8 bytes, either byte
// order, C order only (a Fortran-ordered array is an error: save it with
// numpy.ascontiguousarray first).

// Limits on what ReadNPY accepts. Beyond them the header is rejected before
// anything is allocated for the values; within them the values are read as
// they arrive, so a header that promises more data than the file holds
// costs at most about twice the bytes actually present.
const (
	// MaxNPYHeader is the longest header accepted, in bytes (NumPy itself
	// refuses headers over 10000 bytes unless told otherwise).
	MaxNPYHeader = 1 << 16
	// MaxNPYDims is the largest number of dimensions accepted (NumPy's
	// own limit is 64).
	MaxNPYDims = 32
	// MaxNPYBytes is the largest payload (values times value size)
	// accepted: 16 GiB.
	MaxNPYBytes = 1 << 34
)

// ErrNPY is wrapped by every error that reports malformed or unsupported
// NPY data.
var ErrNPY = errors.New("malformed or unsupported NPY data")

// npyMagic starts every NPY file.
const npyMagic = "\x93NUMPY"

// NPY is the array held by an NPY file, its values as stored.
type NPY struct {
	// Kind is the value kind: 'u' (unsigned integer), 'i' (signed
	// integer) or 'f' (IEEE 754 float).
	Kind byte
	// Size is the bytes of one value: 1, 2, 4 or 8 (4 or 8 for floats).
	Size int
	// BigEndian reports that values of more than one byte are stored
	// big-endian (descr '>f4'); they are little-endian otherwise.
	BigEndian bool
	// Shape holds the dimension sizes, outermost first; empty for a 0-d
	// array (one value).
	Shape []int
	// Data holds the values in C order (last index fastest), Len()*Size
	// bytes.
	Data []byte
}

// Descr is the array's NumPy type string, e.g. "|u1", "<f4", ">i2".
func (x *NPY) Descr() string {
	order := byte('<')
	switch {
	case x.Size == 1:
		order = '|'
	case x.BigEndian:
		order = '>'
	}
	return fmt.Sprintf("%c%c%d", order, x.Kind, x.Size)
}

// Len is the number of values: the product of Shape (1 for a 0-d array).
func (x *NPY) Len() int {
	n := 1
	for _, d := range x.Shape {
		n *= d
	}
	return n
}

// Value returns value i (0 <= i < Len) converted to float64 (8-byte
// integers beyond 2^53 are rounded). It panics if i is out of range or
// Kind and Size are not a type the reader accepts.
func (x *NPY) Value(i int) float64 {
	s := x.Size
	if !npyTypeOK(x.Kind, s) || i < 0 || (i+1)*s > len(x.Data) {
		panic(fmt.Sprintf("data.NPY.Value: index %d of %d %s values", i, len(x.Data)/max(s, 1), x.Descr()))
	}
	b := x.Data[i*s : (i+1)*s]
	var order binary.ByteOrder = binary.LittleEndian
	if x.BigEndian {
		order = binary.BigEndian
	}
	var u uint64
	switch s {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(order.Uint16(b))
	case 4:
		u = uint64(order.Uint32(b))
	default:
		u = order.Uint64(b)
	}
	switch {
	case x.Kind == 'u':
		return float64(u)
	case x.Kind == 'i':
		shift := 64 - 8*s
		return float64(int64(u<<shift) >> shift)
	case s == 4:
		return float64(math.Float32frombits(uint32(u)))
	default:
		return math.Float64frombits(u)
	}
}

// npyTypeOK reports whether kind and size are a type the reader accepts.
func npyTypeOK(kind byte, size int) bool {
	switch kind {
	case 'u', 'i':
		return size == 1 || size == 2 || size == 4 || size == 8
	case 'f':
		return size == 4 || size == 8
	}
	return false
}

// ReadNPY reads one NPY array from r (see NPY for the format and the types
// it takes). The stream must end right after the values. Malformed or
// unsupported data gives an error wrapping ErrNPY; a failing reader's
// error is wrapped as it is.
func ReadNPY(r io.Reader) (*NPY, error) {
	return readNPY(bufio.NewReader(r), -1)
}

// ReadNPYFile reads the NPY file at path. Errors read "read PATH: ...".
func ReadNPYFile(path string) (*NPY, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	x, err := readNPY(bufio.NewReader(f), size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return x, nil
}

// readNPY reads an NPY array from r, whose total length is size bytes when
// size >= 0 (a regular file), which lets the header be checked against the
// file's length before the values are read.
func readNPY(r io.Reader, size int64) (*NPY, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("NPY header: %w (%w)", noEOF(err), ErrNPY)
	}
	if string(pre[:6]) != npyMagic {
		return nil, fmt.Errorf("NPY header: starts %q, want %q: %w", pre[:6], npyMagic, ErrNPY)
	}
	major, minor := pre[6], pre[7]
	var hlen, start int64
	switch {
	case major == 1 && minor == 0:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("NPY header: %w (%w)", noEOF(err), ErrNPY)
		}
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case (major == 2 || major == 3) && minor == 0:
		var lb [4]byte
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return nil, fmt.Errorf("NPY header: %w (%w)", noEOF(err), ErrNPY)
		}
		hlen, start = int64(binary.LittleEndian.Uint32(lb[:])), 12
	default:
		return nil, fmt.Errorf("NPY header: format version %d.%d, want 1.0, 2.0 or 3.0: %w", major, minor, ErrNPY)
	}
	if hlen > MaxNPYHeader {
		return nil, fmt.Errorf("NPY header: %d bytes long, more than the %d accepted: %w", hlen, MaxNPYHeader, ErrNPY)
	}
	if size >= 0 && start+hlen > size {
		return nil, fmt.Errorf("NPY header: %d bytes long, the file has %d after the preamble: %w", hlen, size-start, ErrNPY)
	}
	head := make([]byte, hlen)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("NPY header: %w (%w)", noEOF(err), ErrNPY)
	}
	x, err := parseNPYHeader(string(head))
	if err != nil {
		return nil, fmt.Errorf("NPY header %q: %w", truncate(string(head), 200), err)
	}
	need := int64(x.Size)
	for _, d := range x.Shape {
		if d != 0 && need > MaxNPYBytes/int64(d) {
			need = MaxNPYBytes + 1
		} else {
			need *= int64(d)
		}
	}
	if need > MaxNPYBytes {
		return nil, fmt.Errorf("NPY header: shape %v of %s exceeds the %d-byte limit: %w", x.Shape, x.Descr(), int64(MaxNPYBytes), ErrNPY)
	}
	if size >= 0 {
		if have := size - start - hlen; have != need {
			return nil, fmt.Errorf("NPY data: %d bytes of values, shape %v of %s needs %d: %w", have, x.Shape, x.Descr(), need, ErrNPY)
		}
	}
	// ReadAll grows its buffer as data arrives: its allocation is bounded
	// by about twice the bytes present, whatever the header claims.
	data, err := io.ReadAll(io.LimitReader(r, need))
	if err != nil {
		return nil, fmt.Errorf("NPY data: %w", err)
	}
	if int64(len(data)) < need {
		return nil, fmt.Errorf("NPY data: %d bytes of values, shape %v of %s needs %d: %w", len(data), x.Shape, x.Descr(), need, ErrNPY)
	}
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n > 0 {
		return nil, fmt.Errorf("NPY data: bytes after the %d bytes of values: %w", need, ErrNPY)
	}
	x.Data = data
	return x, nil
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseNPYHeader parses the header dict: exactly the keys 'descr' (a type
// string), 'fortran_order' (False) and 'shape' (a tuple of non-negative
// integers), in any order, each once.
func parseNPYHeader(h string) (*NPY, error) {
	p := &pyLit{s: strings.TrimRight(h, " \n\x00")}
	x := &NPY{}
	seen := map[string]bool{}
	if !p.eat('{') {
		return nil, fmt.Errorf("not a dict: %w", ErrNPY)
	}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q twice: %w", key, ErrNPY)
		}
		seen[key] = true
		if !p.eat(':') {
			return nil, fmt.Errorf("no ':' after key %q: %w", key, ErrNPY)
		}
		switch key {
		case "descr":
			d, err := p.str()
			if err != nil {
				return nil, fmt.Errorf("descr: %w", err)
			}
			if err := x.setDescr(d); err != nil {
				return nil, err
			}
		case "fortran_order":
			switch {
			case p.word("False"):
			case p.word("True"):
				return nil, fmt.Errorf("a Fortran-ordered array (save it with numpy.ascontiguousarray first): %w", ErrNPY)
			default:
				return nil, fmt.Errorf("fortran_order is not True or False: %w", ErrNPY)
			}
		case "shape":
			s, err := p.tuple()
			if err != nil {
				return nil, fmt.Errorf("shape: %w", err)
			}
			x.Shape = s
		default:
			return nil, fmt.Errorf("unknown key %q: %w", key, ErrNPY)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return nil, fmt.Errorf("no ',' or '}' after key %q: %w", key, ErrNPY)
			}
			break
		}
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("text after the dict: %w", ErrNPY)
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return nil, fmt.Errorf("want the keys 'descr', 'fortran_order' and 'shape': %w", ErrNPY)
	}
	return x, nil
}

// setDescr sets Kind, Size and BigEndian from a type string such as "<f4".
func (x *NPY) setDescr(d string) error {
	if len(d) != 3 || !strings.ContainsRune("<>|=", rune(d[0])) || d[2] < '1' || d[2] > '8' {
		return fmt.Errorf("type %q is not a numeric type such as '|u1' or '<f4': %w", d, ErrNPY)
	}
	kind, size := d[1], int(d[2]-'0')
	if !npyTypeOK(kind, size) {
		return fmt.Errorf("type %q: want an unsigned or signed integer (u1, u2, u4, u8, i1, ..., i8) or a float (f4, f8): %w", d, ErrNPY)
	}
	x.Kind, x.Size, x.BigEndian = kind, size, d[0] == '>' && size > 1
	return nil
}

// pyLit scans the small subset of Python literals NPY headers use.
type pyLit struct {
	s string
	i int
}

// skip moves past spaces.
func (p *pyLit) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

// eat consumes c (after spaces) if it comes next.
func (p *pyLit) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word consumes w (after spaces) if it comes next.
func (p *pyLit) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *pyLit) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("want a quoted string at byte %d: %w", p.i, ErrNPY)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at byte %d: %w", p.i, ErrNPY)
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", fmt.Errorf("escaped string at byte %d: %w", p.i, ErrNPY)
	}
	p.i += end + 2
	return v, nil
}

// tuple reads a tuple of non-negative integers: (), (3,), (3, 28, 28).
func (p *pyLit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("not a tuple: %w", ErrNPY)
	}
	dims := []int{}
	for !p.eat(')') {
		if len(dims) == MaxNPYDims {
			return nil, fmt.Errorf("more than %d dimensions: %w", MaxNPYDims, ErrNPY)
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		d, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %q is not an integer from 0 to %d: %w", truncate(p.s[p.i:min(len(p.s), p.i+20)], 20), math.MaxInt32, ErrNPY)
		}
		p.i = j
		dims = append(dims, int(d))
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Errorf("no ',' or ')' after dimension %d: %w", d, ErrNPY)
			}
			break
		}
	}
	return dims, nil
}

// WriteNPY writes x as an NPY file of format version 1.0, its header
// padded with spaces so the values start at a multiple of 64 bytes, as
// numpy.save does. It panics if x is inconsistent (a type the reader does
// not accept, more than MaxNPYDims dimensions, a negative dimension, or
// Data not Len()*Size bytes long).
func WriteNPY(w io.Writer, x *NPY) error {
	if !npyTypeOK(x.Kind, x.Size) || len(x.Shape) > MaxNPYDims || len(x.Data) != x.Len()*x.Size {
		panic(fmt.Sprintf("data.WriteNPY: type %s, shape %v, %d data bytes", x.Descr(), x.Shape, len(x.Data)))
	}
	var shape strings.Builder
	shape.WriteByte('(')
	for i, d := range x.Shape {
		if d < 0 || d > math.MaxInt32 {
			panic(fmt.Sprintf("data.WriteNPY: dimension %d is %d", i, d))
		}
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.Itoa(d))
	}
	if len(x.Shape) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", x.Descr(), shape.String())
	total := 10 + len(dict) + 1 // preamble, dict, "\n"
	pad := (64 - total%64) % 64
	var head bytes.Buffer
	head.WriteString(npyMagic)
	head.Write([]byte{1, 0})
	binary.Write(&head, binary.LittleEndian, uint16(len(dict)+pad+1))
	head.WriteString(dict)
	head.WriteString(strings.Repeat(" ", pad))
	head.WriteByte('\n')
	if _, err := w.Write(head.Bytes()); err != nil {
		return fmt.Errorf("write NPY: %w", err)
	}
	if _, err := w.Write(x.Data); err != nil {
		return fmt.Errorf("write NPY: %w", err)
	}
	return nil
}
