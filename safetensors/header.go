package safetensors

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseHeader parses and validates the N header bytes (without the length
// prefix). It walks the JSON token by token, so duplicate keys are seen, and
// checks that the tensors tile a data buffer of Header.DataLen bytes. The
// caller checks that the buffer has that length.
func parseHeader(b []byte) (*Header, error) {
	if !utf8.Valid(b) {
		return nil, formatErr("header is not valid UTF-8")
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, formatErr("header does not start with '{' (found %s)", firstBytes(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	p := headerParser{dec: dec}
	h := &Header{HeaderLen: len(b)}
	if err := p.delim('{', "the header"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	sawMetadata := false
	for dec.More() {
		key, err := p.key("the header")
		if err != nil {
			return nil, err
		}
		if key == metadataKey {
			if sawMetadata {
				return nil, formatErr("duplicate key %q in header", metadataKey)
			}
			sawMetadata = true
			if h.Metadata, err = p.metadata(); err != nil {
				return nil, err
			}
			continue
		}
		if seen[key] {
			return nil, formatErr("duplicate tensor name %q", key)
		}
		seen[key] = true
		info, err := p.tensorInfo(key)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, info)
	}
	if err := p.delim('}', "the header"); err != nil {
		return nil, err
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, formatErr("unexpected data after the header's JSON object: %w", err)
		}
		return nil, formatErr("found %s after the header's JSON object", describe(tok))
	}
	var err error
	h.DataLen, err = layout(h.Tensors)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// layout sorts tensors by (begin, end, name), checks that they tile
// [0, total) with no hole or overlap and that each range has the size its
// dtype and shape need, and returns total.
func layout(tensors []TensorInfo) (int, error) {
	slices.SortFunc(tensors, func(a, b TensorInfo) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End), strings.Compare(a.Name, b.Name))
	})
	start := 0
	prev := ""
	for _, t := range tensors {
		if t.End < t.Begin {
			return 0, formatErr("tensor %q: data_offsets [%d, %d] end before they begin", t.Name, t.Begin, t.End)
		}
		if t.Begin > start {
			return 0, formatErr("data buffer bytes [%d, %d) are not covered by any tensor (hole before tensor %q)", start, t.Begin, t.Name)
		}
		if t.Begin < start {
			return 0, formatErr("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", t.Name, t.Begin, t.End, prev, start)
		}
		n, ok := numel(t.Shape)
		if !ok {
			return 0, formatErr("tensor %q: the element count of shape %v overflows", t.Name, t.Shape)
		}
		size := t.DType.Size()
		if n > math.MaxInt/size {
			return 0, formatErr("tensor %q: the byte size of %d elements of %s overflows", t.Name, n, t.DType)
		}
		if got := t.End - t.Begin; got != n*size {
			return 0, formatErr("tensor %q: %s of shape %v needs %d bytes, but data_offsets [%d, %d] give %d",
				t.Name, t.DType, t.Shape, n*size, t.Begin, t.End, got)
		}
		start, prev = t.End, t.Name
	}
	return start, nil
}

// numel is the product of the dimensions, multiplied in order like the
// reference does, and false if a partial product overflows int.
func numel(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// headerParser reads the header's JSON tokens.
type headerParser struct {
	dec *json.Decoder
}

// token returns the next token; what names the value being read, for errors.
func (p *headerParser) token(what string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, formatErr("header JSON ends in the middle of %s", what)
	}
	if err != nil {
		return nil, formatErr("header is not valid JSON (in %s): %w", what, err)
	}
	return tok, nil
}

// delim reads the next token and checks that it is d.
func (p *headerParser) delim(d json.Delim, what string) error {
	tok, err := p.token(what)
	if err != nil {
		return err
	}
	if tok != d {
		return formatErr("%s must be a JSON %s, found %s", what, delimKind(d), describe(tok))
	}
	return nil
}

// key reads an object key; the decoder guarantees a key is a string.
func (p *headerParser) key(what string) (string, error) {
	tok, err := p.token(what)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", formatErr("expected a key in %s, found %s", what, describe(tok))
	}
	return s, nil
}

// metadata reads the "__metadata__" value: null (no metadata) or an object
// of string to string.
func (p *headerParser) metadata() (map[string]string, error) {
	const what = "__metadata__"
	tok, err := p.token(what)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, formatErr("__metadata__ must be an object of strings, found %s", describe(tok))
	}
	m := map[string]string{}
	for p.dec.More() {
		k, err := p.key(what)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, formatErr("duplicate key %q in __metadata__", k)
		}
		tok, err := p.token(what)
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, formatErr("__metadata__ value for %q must be a string, found %s", k, describe(tok))
		}
		m[k] = v
	}
	if err := p.delim('}', what); err != nil {
		return nil, err
	}
	return m, nil
}

// tensorInfo reads the entry {"dtype", "shape", "data_offsets"} of tensor
// name; each field is required exactly once and no other field is allowed.
func (p *headerParser) tensorInfo(name string) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	what := fmt.Sprintf("the entry of tensor %q", name)
	if err := p.delim('{', what); err != nil {
		return info, err
	}
	have := map[string]bool{}
	for p.dec.More() {
		k, err := p.key(what)
		if err != nil {
			return info, err
		}
		if have[k] {
			return info, formatErr("tensor %q: duplicate field %q", name, k)
		}
		have[k] = true
		switch k {
		case "dtype":
			tok, err := p.token(what)
			if err != nil {
				return info, err
			}
			s, ok := tok.(string)
			if !ok {
				return info, formatErr("tensor %q: dtype must be a string, found %s", name, describe(tok))
			}
			info.DType = DType(s)
			if info.DType.Size() == 0 {
				return info, formatErr("tensor %q: unknown dtype %q", name, s)
			}
		case "shape":
			if info.Shape, err = p.ints(name, "shape"); err != nil {
				return info, err
			}
		case "data_offsets":
			offs, err := p.ints(name, "data_offsets")
			if err != nil {
				return info, err
			}
			if len(offs) != 2 {
				return info, formatErr("tensor %q: data_offsets must hold 2 integers [begin, end], found %d", name, len(offs))
			}
			info.Begin, info.End = offs[0], offs[1]
		default:
			return info, formatErr("tensor %q: unknown field %q", name, k)
		}
	}
	if err := p.delim('}', what); err != nil {
		return info, err
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if !have[k] {
			return info, formatErr("tensor %q: missing field %q", name, k)
		}
	}
	return info, nil
}

// ints reads a JSON array of non-negative integers that fit in an int.
func (p *headerParser) ints(name, field string) ([]int, error) {
	what := fmt.Sprintf("the %s of tensor %q", field, name)
	if err := p.delim('[', what); err != nil {
		return nil, err
	}
	out := []int{}
	for p.dec.More() {
		tok, err := p.token(what)
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, formatErr("tensor %q: %s must hold integers, found %s", name, field, describe(tok))
		}
		s := string(num)
		switch {
		case strings.HasPrefix(s, "-"):
			return nil, formatErr("tensor %q: %s holds the negative number %s", name, field, s)
		case strings.ContainsAny(s, ".eE"):
			return nil, formatErr("tensor %q: %s holds %s, which is not written as an integer", name, field, s)
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v > math.MaxInt {
			return nil, formatErr("tensor %q: %s holds %s, which is too large", name, field, s)
		}
		out = append(out, int(v))
	}
	if err := p.delim(']', what); err != nil {
		return nil, err
	}
	return out, nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("the string %q", truncate(v))
	case json.Number:
		return "the number " + truncate(string(v))
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	}
	return fmt.Sprintf("%v", tok)
}

// delimKind names the JSON value a delimiter opens or closes.
func delimKind(d json.Delim) string {
	switch d {
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return fmt.Sprintf("%q", string(d))
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// firstBytes quotes the start of b for an error message.
func firstBytes(b []byte) string {
	if len(b) == 0 {
		return "an empty header"
	}
	return fmt.Sprintf("%q", truncate(string(b[:min(len(b), 16)])))
}
