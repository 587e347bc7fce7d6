package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/kallima-gan/kallima/internal/atomicfile"
)

// WriteTo writes f to w in the safetensors format, all tensors as F32, and
// returns the number of bytes written. The output depends only on f's
// content (see the package doc for the layout). It returns an error, before
// writing anything, if a tensor is nil, a name is "__metadata__", or a name
// or metadata string is not valid UTF-8; otherwise it returns w's first
// error.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	header, names, err := f.header()
	if err != nil {
		return 0, err
	}
	// One buffer carries the prefix, the header and then the tensor data,
	// chunk by chunk.
	buf := make([]byte, 0, max(64<<10, 8+len(header)))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(header)))
	buf = append(buf, header...)
	var written int64
	flush := func() error {
		k, err := w.Write(buf)
		written += int64(k)
		buf = buf[:0]
		return err
	}
	for _, name := range names {
		for _, v := range f.Tensors[name].Data() {
			if len(buf)+4 > cap(buf) {
				if err := flush(); err != nil {
					return written, err
				}
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if err := flush(); err != nil {
		return written, err
	}
	return written, nil
}

// Save writes f to the file at path atomically: it writes a temporary file
// in the same directory, syncs it to disk, renames it over path and syncs
// the directory, so path holds either its old content or all of f, even if
// the machine stops midway. Missing parent folders are made. The file gets
// mode 0644.
func (f *File) Save(path string) error {
	if _, _, err := f.header(); err != nil {
		return fmt.Errorf("safetensors: save %s: %w", path, err)
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := f.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("safetensors: save %s: %w", path, err)
	}
	return nil
}

// header validates f and returns its padded JSON header and the tensor names
// in data order.
func (f *File) header() ([]byte, []string, error) {
	names := f.Names()
	for _, name := range names {
		switch {
		case name == metadataKey:
			return nil, nil, fmt.Errorf("safetensors: tensor name %q is reserved for metadata", name)
		case !utf8.ValidString(name):
			return nil, nil, fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", name)
		case f.Tensors[name] == nil:
			return nil, nil, fmt.Errorf("safetensors: tensor %q is nil", name)
		}
	}
	keys := slices.Sorted(maps.Keys(f.Metadata))
	for _, k := range keys {
		if !utf8.ValidString(k) || !utf8.ValidString(f.Metadata[k]) {
			return nil, nil, fmt.Errorf("safetensors: metadata %q: %q is not valid UTF-8", k, f.Metadata[k])
		}
	}

	b := []byte{'{'}
	if len(keys) > 0 {
		b = appendJSONString(b, metadataKey)
		b = append(b, ":{"...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, f.Metadata[k])
		}
		b = append(b, '}')
		if len(names) > 0 {
			b = append(b, ',')
		}
	}
	offset := 0
	for i, name := range names {
		t := f.Tensors[name]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, `:{"dtype":"F32","shape":[`...)
		for j, d := range t.Shape() {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		end := offset + 4*t.Len()
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, int64(offset), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(end), 10)
		b = append(b, "]}"...)
		offset = end
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	return b, names, nil
}

// appendJSONString appends s as a JSON string escaped the way serde_json
// escapes it (and so the Rust and Python safetensors libraries): '"', '\\'
// and the control characters below 0x20 are escaped, with the short forms
// \b \f \n \r \t where they exist and \u00xx otherwise; everything else,
// including non-ASCII UTF-8, is copied as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
