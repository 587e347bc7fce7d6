// Package safetensors reads and writes Kallima's weight files in the
// safetensors format, so that weights move between Kallima and Python
// (PyTorch, NumPy, JAX) without pickle.
//
// A file is laid out as
//
//	[8 bytes]  N, the header length, a little-endian uint64
//	[N bytes]  a UTF-8 JSON object (the header), padded at the end with spaces
//	[rest]     the data buffer
//
// The header maps each tensor name to
//
//	{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//
// where the offsets are byte positions in the data buffer (after the header),
// and may hold one more key, "__metadata__", an object of string to string.
// Tensors are stored little-endian in row-major order.
//
// The rules of the reference implementation (github.com/huggingface/safetensors)
// are enforced when reading: N is at most MaxHeaderSize, the header starts
// with '{', the tensors' byte ranges, sorted by offset, tile the data buffer
// exactly (no holes, no overlaps, nothing left over), and each range holds
// exactly shape×dtype-size bytes, computed without overflow. Kallima is
// stricter than the reference in three places, each of which the reference
// writer never produces: duplicate keys anywhere in the header, unknown
// fields in a tensor's entry, and BOOL bytes other than 0 and 1 are errors.
// Every malformed input gives an error wrapping ErrFormat that says what is
// wrong; no input makes the reader panic or allocate much more than the input
// itself.
//
// Writing is deterministic: tensors are laid out in byte order of their
// names, "__metadata__" comes first with its keys sorted, the JSON is compact
// (escaped like serde_json, so non-ASCII text stays raw UTF-8), and the header
// is padded with spaces to a multiple of 8 bytes, as the Rust library does.
// Kallima's tensors are float32, so everything is written as F32; reading
// converts other dtypes to float32 (see DType).
package safetensors

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kallima-gan/kallima/tensor"
)

// MaxHeaderSize is the largest header length N accepted when reading, in
// bytes; it is the reference implementation's limit (100 MB).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the file's metadata.
const metadataKey = "__metadata__"

// ErrFormat is wrapped by every error that reports a malformed file (as
// opposed to an I/O failure), so callers can test errors.Is(err, ErrFormat).
var ErrFormat = errors.New("malformed safetensors file")

// formatErr returns an error wrapping ErrFormat with the given explanation.
func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// File is the content of a safetensors file as Kallima uses it: named
// float32 tensors and string metadata.
type File struct {
	// Tensors maps each name to its tensor. A name may be any valid UTF-8
	// string except "__metadata__"; by convention it is a dotted path such as
	// "generator.fc1.weight".
	Tensors map[string]*tensor.Tensor
	// Metadata holds free-form string pairs (e.g. {"format": "pt"}); nil and
	// empty are written the same way, as no "__metadata__" key.
	Metadata map[string]string
}

// Names returns the tensor names in the order they are written: sorted by
// their bytes.
func (f *File) Names() []string { return slices.Sorted(maps.Keys(f.Tensors)) }

// DType names an element type of the format, spelled as in the header.
//
// Reading converts these dtypes to float32, rounding to nearest-even where
// float32 cannot hold the value exactly: F32 (as is), F64 (overflow becomes
// ±Inf, tiny values flush towards 0), F16 and BF16 (exact, including
// subnormals, ±Inf and NaN), I64 and I32 (exact up to 2^24 in magnitude,
// rounded beyond), I16, I8 and U8 (exact), and BOOL (0 or 1). The other dtypes
// listed here (U64, U32, U16, F8_E5M2, F8_E4M3) are recognised so that their
// headers can be inspected with ReadHeader, but reading their values is an
// error that names the dtype; any other dtype string is an error too.
type DType string

// The dtypes of the format.
const (
	F64    DType = "F64"
	F32    DType = "F32"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I64    DType = "I64"
	I32    DType = "I32"
	I16    DType = "I16"
	I8     DType = "I8"
	U8     DType = "U8"
	BOOL   DType = "BOOL"
	U64    DType = "U64"
	U32    DType = "U32"
	U16    DType = "U16"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
)

// Size returns the number of bytes of one element, or 0 if d is not a dtype
// of the format.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL, F8E5M2, F8E4M3:
		return 1
	}
	return 0
}

// Convertible reports whether reading converts d to float32 (see DType).
func (d DType) Convertible() bool {
	switch d {
	case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL:
		return true
	}
	return false
}

// TensorInfo describes one tensor of a header.
type TensorInfo struct {
	Name  string
	DType DType
	// Shape is the tensor's shape; [] is a scalar, and a 0 anywhere makes an
	// empty tensor.
	Shape []int
	// Begin and End are the tensor's byte range [Begin, End) in the data
	// buffer.
	Begin, End int
}

// Header is a file's parsed and validated header.
type Header struct {
	// Tensors lists the tensors in data-buffer order (by offset, ties broken
	// by name).
	Tensors []TensorInfo
	// Metadata is the "__metadata__" object, nil if the file has none.
	Metadata map[string]string
	// HeaderLen is N, the JSON header's length in bytes including padding.
	HeaderLen int
	// DataLen is the length of the data buffer the tensors cover, in bytes;
	// a well-formed file is exactly 8 + HeaderLen + DataLen bytes long.
	DataLen int
}
