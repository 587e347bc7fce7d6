package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/kallima-gan/kallima/tensor"
)

// Parse decodes a whole safetensors file held in b, converting every tensor
// to float32 (see DType). The returned tensors do not share memory with b.
// A malformed file gives an error wrapping ErrFormat.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, formatErr("file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n, err := headerLen(b[:8])
	if err != nil {
		return nil, err
	}
	if n > len(b)-8 {
		return nil, formatErr("header length %d is larger than the %d bytes that follow it", n, len(b)-8)
	}
	h, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, err
	}
	return decode(h, b[8+n:])
}

// Read decodes a safetensors file from r, reading r to its end; it accepts
// exactly the files Parse accepts. Memory grows with the bytes actually read,
// not with the sizes a header claims.
func Read(r io.Reader) (*File, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(h.DataLen)))
	if err != nil {
		return nil, fmt.Errorf("safetensors: reading the data buffer: %w", err)
	}
	if len(data) == h.DataLen {
		var one [1]byte
		switch k, err := io.ReadFull(r, one[:]); {
		case k > 0:
			return nil, formatErr("bytes follow the %d-byte data buffer the tensors cover", h.DataLen)
		case err != io.EOF:
			return nil, fmt.Errorf("safetensors: reading past the data buffer: %w", err)
		}
	}
	return decode(h, data)
}

// Load reads the safetensors file at path; see Parse.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors: load %s: %w", path, err)
	}
	return f, nil
}

// ReadHeader reads the length prefix and the header from r, and no more, and
// returns the validated header. It checks everything Parse checks except the
// data buffer's length, which it does not read; Header.DataLen says what the
// length must be. Unlike Parse it accepts every dtype DType lists, which makes
// it the way to inspect a file's names, dtypes and shapes.
func ReadHeader(r io.Reader) (*Header, error) {
	var prefix [8]byte
	if k, err := io.ReadFull(r, prefix[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, formatErr("file is %d bytes, shorter than the 8-byte header length", k)
		}
		return nil, fmt.Errorf("safetensors: reading the header length: %w", err)
	}
	n, err := headerLen(prefix[:])
	if err != nil {
		return nil, err
	}
	// ReadAll grows its buffer as bytes arrive, so a header length that
	// the input does not back allocates nothing large.
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("safetensors: reading the header: %w", err)
	}
	if len(b) < n {
		return nil, formatErr("header length %d is larger than the %d bytes that follow it", n, len(b))
	}
	return parseHeader(b)
}

// LoadHeader reads and validates the header of the file at path (see
// ReadHeader) and also checks that the file's size is 8 + N + the data
// length the header describes.
func LoadHeader(path string) (*Header, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	h, err := ReadHeader(fh)
	if err == nil {
		err = checkDataLen(h, st.Size()-8-int64(h.HeaderLen))
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: load header of %s: %w", path, err)
	}
	return h, nil
}

// headerLen decodes the 8-byte length prefix and checks it against
// MaxHeaderSize.
func headerLen(prefix []byte) (int, error) {
	n := binary.LittleEndian.Uint64(prefix)
	if n > MaxHeaderSize {
		return 0, formatErr("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	return int(n), nil
}

// checkDataLen checks that the data buffer's actual length have matches the
// header.
func checkDataLen(h *Header, have int64) error {
	switch want := int64(h.DataLen); {
	case have < want:
		return formatErr("file is truncated: the tensors cover %d bytes of data but only %d follow the header", want, have)
	case have > want:
		return formatErr("%d bytes follow the %d-byte data buffer the tensors cover", have-want, want)
	}
	return nil
}

// decode converts each tensor of h from the data buffer to float32.
func decode(h *Header, data []byte) (*File, error) {
	if err := checkDataLen(h, int64(len(data))); err != nil {
		return nil, err
	}
	for _, t := range h.Tensors {
		if !t.DType.Convertible() {
			return nil, formatErr("tensor %q: dtype %s cannot be read as float32 (readable: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)", t.Name, t.DType)
		}
	}
	f := &File{Tensors: make(map[string]*tensor.Tensor, len(h.Tensors)), Metadata: h.Metadata}
	for _, t := range h.Tensors {
		vals, err := convert(t, data[t.Begin:t.End])
		if err != nil {
			return nil, err
		}
		f.Tensors[t.Name] = tensor.FromSlice(vals, t.Shape...)
	}
	return f, nil
}

// convert decodes the little-endian elements in b, of dtype t.DType, to
// float32. The caller has checked that len(b) is a whole number of elements.
func convert(t TensorInfo, b []byte) ([]float32, error) {
	out := make([]float32, len(b)/t.DType.Size())
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case I64:
		for i := range out {
			out[i] = float32(int64(le.Uint64(b[8*i:])))
		}
	case I32:
		for i := range out {
			out[i] = float32(int32(le.Uint32(b[4*i:])))
		}
	case I16:
		for i := range out {
			out[i] = float32(int16(le.Uint16(b[2*i:])))
		}
	case I8:
		for i := range out {
			out[i] = float32(int8(b[i]))
		}
	case U8:
		for i := range out {
			out[i] = float32(b[i])
		}
	case BOOL:
		for i := range out {
			if b[i] > 1 {
				return nil, formatErr("tensor %q: BOOL element %d is the byte %d, not 0 or 1", t.Name, i, b[i])
			}
			out[i] = float32(b[i])
		}
	default:
		panic("safetensors: convert called with dtype " + string(t.DType)) // decode checks Convertible first
	}
	return out, nil
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 exactly:
// normal numbers rebias the exponent (15 → 127), subnormals are m·2^-24,
// and Inf/NaN keep their payload.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	v := float32(mant) / (1 << 24) // exact: mant < 2^10
	if sign != 0 {
		v = -v
	}
	return v
}
