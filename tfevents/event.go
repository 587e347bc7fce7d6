package tfevents

import (
	"encoding/binary"
	"fmt"
	"math"
)

// FileVersion is the file_version string TensorBoard expects in the first
// record of an event file.
const FileVersion = "brain.Event:2"

// Event is the subset of tensorflow.Event (tensorflow/core/util/event.proto)
// that Kallima writes and reads:
//
//	message Event { double wall_time = 1; int64 step = 2;
//	                oneof what { string file_version = 3; Summary summary = 5; ... } }
//
// An Event carries either a FileVersion or a Summary (Values), not both.
type Event struct {
	WallTime    float64 // seconds since the Unix epoch
	Step        int64
	FileVersion string  // set only in the first record of a file
	Values      []Value // Summary.value; empty when the event has no summary
	HasSummary  bool    // the event holds a Summary (possibly with no values)
}

// Kind says which member of Summary.Value's value oneof a Value holds.
type Kind int

// Kinds of Summary.Value. KindOther is a member Kallima does not decode
// (histogram, audio, tensor, ...); its payload is skipped.
const (
	KindNone Kind = iota
	KindScalar
	KindImage
	KindOther
)

// Value is tensorflow.Summary.Value (tensorflow/core/framework/summary.proto)
// restricted to scalars and images:
//
//	message Value { string tag = 1; oneof value { float simple_value = 2; Image image = 4; ... } }
type Value struct {
	Tag    string
	Kind   Kind
	Scalar float32 // simple_value, when Kind == KindScalar
	Image  *Image  // image, when Kind == KindImage
}

// Image is tensorflow.Summary.Image:
//
//	message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
//
// Colorspace is 1 grayscale, 2 grayscale+alpha, 3 RGB, 4 RGBA; Encoded holds
// the image file (PNG here).
type Image struct {
	Height, Width, Colorspace int32
	Encoded                   []byte
}

// Protocol buffer wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// Field numbers, from event.proto and summary.proto.
const (
	fieldEventWallTime    = 1
	fieldEventStep        = 2
	fieldEventFileVersion = 3
	fieldEventSummary     = 5

	fieldSummaryValue = 1

	fieldValueTag    = 1
	fieldValueSimple = 2
	fieldValueImage  = 4

	fieldImageHeight     = 1
	fieldImageWidth      = 2
	fieldImageColorspace = 3
	fieldImageEncoded    = 4
)

// The encoder follows proto3 serialization: fields in number order, scalar
// fields equal to their default (0, "") omitted, oneof members always
// written. Its output is byte-identical to the Python protobuf runtime's
// (checked against testdata/golden.tfevents).

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

// appendInt writes an int32/int64 varint field (negative values take ten
// bytes, as protobuf sign-extends them to 64 bits); zero is omitted.
func appendInt(b []byte, field int, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, field, wireVarint)
	return binary.AppendUvarint(b, uint64(v))
}

func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, field int, v string) []byte {
	if v == "" {
		return b
	}
	return appendBytes(b, field, []byte(v))
}

func marshalImage(im *Image) []byte {
	var b []byte
	b = appendInt(b, fieldImageHeight, int64(im.Height))
	b = appendInt(b, fieldImageWidth, int64(im.Width))
	b = appendInt(b, fieldImageColorspace, int64(im.Colorspace))
	if len(im.Encoded) > 0 {
		b = appendBytes(b, fieldImageEncoded, im.Encoded)
	}
	return b
}

func marshalValue(v Value) []byte {
	b := appendString(nil, fieldValueTag, v.Tag)
	switch v.Kind {
	case KindScalar:
		b = appendTag(b, fieldValueSimple, wireFixed32)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v.Scalar))
	case KindImage:
		if v.Image == nil {
			panic(fmt.Sprintf("tfevents.Value: tag %q has KindImage and a nil Image", v.Tag))
		}
		b = appendBytes(b, fieldValueImage, marshalImage(v.Image))
	case KindNone:
	default:
		panic(fmt.Sprintf("tfevents.Value: tag %q has kind %d, which cannot be written", v.Tag, v.Kind))
	}
	return b
}

// marshalEvent encodes e as a tensorflow.Event message. It panics if e has
// both a FileVersion and a summary (they share a oneof).
func marshalEvent(e Event) []byte {
	summary := e.HasSummary || len(e.Values) > 0
	if summary && e.FileVersion != "" {
		panic(fmt.Sprintf("tfevents.Event: both FileVersion %q and a summary set (they share a oneof)", e.FileVersion))
	}
	var b []byte
	if e.WallTime != 0 {
		b = appendTag(b, fieldEventWallTime, wireFixed64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.WallTime))
	}
	b = appendInt(b, fieldEventStep, e.Step)
	b = appendString(b, fieldEventFileVersion, e.FileVersion)
	if summary {
		var s []byte
		for _, v := range e.Values {
			s = appendBytes(s, fieldSummaryValue, marshalValue(v))
		}
		b = appendBytes(b, fieldEventSummary, s)
	}
	return b
}

// field is one decoded protobuf field: its number, wire type and either the
// integer value (varint, fixed32, fixed64) or the length-delimited bytes.
type field struct {
	num  int
	wire int
	u    uint64
	b    []byte
}

// parseFields splits a protobuf message into its fields, in order.
func parseFields(msg []byte) ([]field, error) {
	var fs []field
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return nil, fmt.Errorf("bad field key: %w", ErrCorrupt)
		}
		msg = msg[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		if f.num == 0 || key>>3 > math.MaxInt32 {
			return nil, fmt.Errorf("bad field number %d: %w", key>>3, ErrCorrupt)
		}
		switch f.wire {
		case wireVarint:
			f.u, n = binary.Uvarint(msg)
			if n <= 0 {
				return nil, fmt.Errorf("field %d: bad varint: %w", f.num, ErrCorrupt)
			}
			msg = msg[n:]
		case wireFixed64:
			if len(msg) < 8 {
				return nil, fmt.Errorf("field %d: short fixed64: %w", f.num, ErrCorrupt)
			}
			f.u, msg = binary.LittleEndian.Uint64(msg), msg[8:]
		case wireFixed32:
			if len(msg) < 4 {
				return nil, fmt.Errorf("field %d: short fixed32: %w", f.num, ErrCorrupt)
			}
			f.u, msg = uint64(binary.LittleEndian.Uint32(msg)), msg[4:]
		case wireBytes:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return nil, fmt.Errorf("field %d: bad length: %w", f.num, ErrCorrupt)
			}
			f.b, msg = msg[n:n+int(l)], msg[n+int(l):]
		default:
			return nil, fmt.Errorf("field %d: unsupported wire type %d: %w", f.num, f.wire, ErrCorrupt)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// expect checks that a known field arrived with the wire type its declaration
// implies.
func expect(f field, wire int, msg string) error {
	if f.wire != wire {
		return fmt.Errorf("%s field %d: wire type %d, want %d: %w", msg, f.num, f.wire, wire, ErrCorrupt)
	}
	return nil
}

func unmarshalImage(msg []byte) (*Image, error) {
	fs, err := parseFields(msg)
	if err != nil {
		return nil, fmt.Errorf("Image: %w", err)
	}
	im := &Image{}
	for _, f := range fs {
		switch f.num {
		case fieldImageHeight, fieldImageWidth, fieldImageColorspace:
			if err := expect(f, wireVarint, "Image"); err != nil {
				return nil, err
			}
			v := int32(f.u) // protobuf truncates int32 varints to the low 32 bits
			switch f.num {
			case fieldImageHeight:
				im.Height = v
			case fieldImageWidth:
				im.Width = v
			default:
				im.Colorspace = v
			}
		case fieldImageEncoded:
			if err := expect(f, wireBytes, "Image"); err != nil {
				return nil, err
			}
			im.Encoded = f.b
		}
	}
	return im, nil
}

func unmarshalValue(msg []byte) (Value, error) {
	fs, err := parseFields(msg)
	if err != nil {
		return Value{}, fmt.Errorf("Summary.Value: %w", err)
	}
	var v Value
	for _, f := range fs {
		switch f.num {
		case fieldValueTag:
			if err := expect(f, wireBytes, "Summary.Value"); err != nil {
				return Value{}, err
			}
			v.Tag = string(f.b)
		case fieldValueSimple:
			if err := expect(f, wireFixed32, "Summary.Value"); err != nil {
				return Value{}, err
			}
			v.Kind, v.Scalar, v.Image = KindScalar, math.Float32frombits(uint32(f.u)), nil
		case fieldValueImage:
			if err := expect(f, wireBytes, "Summary.Value"); err != nil {
				return Value{}, err
			}
			im, err := unmarshalImage(f.b)
			if err != nil {
				return Value{}, err
			}
			v.Kind, v.Scalar, v.Image = KindImage, 0, im
		case 3, 5, 6, 8: // the oneof's other members
			v.Kind, v.Scalar, v.Image = KindOther, 0, nil
		}
	}
	return v, nil
}

// unmarshalEvent decodes a tensorflow.Event message, skipping fields it does
// not know.
func unmarshalEvent(msg []byte) (Event, error) {
	fs, err := parseFields(msg)
	if err != nil {
		return Event{}, fmt.Errorf("Event: %w", err)
	}
	var e Event
	for _, f := range fs {
		switch f.num {
		case fieldEventWallTime:
			if err := expect(f, wireFixed64, "Event"); err != nil {
				return Event{}, err
			}
			e.WallTime = math.Float64frombits(f.u)
		case fieldEventStep:
			if err := expect(f, wireVarint, "Event"); err != nil {
				return Event{}, err
			}
			e.Step = int64(f.u)
		case fieldEventFileVersion:
			if err := expect(f, wireBytes, "Event"); err != nil {
				return Event{}, err
			}
			e.FileVersion, e.Values, e.HasSummary = string(f.b), nil, false
		case fieldEventSummary:
			if err := expect(f, wireBytes, "Event"); err != nil {
				return Event{}, err
			}
			sf, err := parseFields(f.b)
			if err != nil {
				return Event{}, fmt.Errorf("Summary: %w", err)
			}
			e.FileVersion, e.Values, e.HasSummary = "", nil, true
			for _, s := range sf {
				if s.num != fieldSummaryValue {
					continue
				}
				if err := expect(s, wireBytes, "Summary"); err != nil {
					return Event{}, err
				}
				v, err := unmarshalValue(s.b)
				if err != nil {
					return Event{}, err
				}
				e.Values = append(e.Values, v)
			}
		}
	}
	return e, nil
}
