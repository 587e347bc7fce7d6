package tfevents

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrCorrupt reports a record whose length or data checksum does not match,
// or whose payload is not a valid Event.
var ErrCorrupt = errors.New("tfevents: corrupt record")

// maxRecord bounds the length a record may claim (1 GiB); a larger length is
// treated as corruption rather than an allocation request.
const maxRecord = 1 << 30

// castagnoli is the CRC-32C (Castagnoli polynomial 0x1EDC6F41) table used by
// TFRecord framing.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is added to the rotated CRC by MaskedCRC.
const maskDelta = 0xa282ead8

// MaskedCRC returns TFRecord's masked CRC-32C of b:
//
//	c = crc32c(b); masked = ((c >> 15) | (c << 17)) + 0xa282ead8  (mod 2^32)
//
// The rotation keeps a CRC stored inside CRC-covered data from being easy to
// confuse with the data's own checksum.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + maskDelta
}

// appendRecord appends one TFRecord frame holding data to dst:
//
//	uint64 length (LE) | uint32 MaskedCRC(length bytes) (LE) | data | uint32 MaskedCRC(data) (LE)
func appendRecord(dst, data []byte) []byte {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], MaskedCRC(head[:8]))
	dst = append(dst, head[:]...)
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskedCRC(data))
}

// Reader reads Events from a stream of TFRecord frames, verifying both
// checksums of every record.
type Reader struct {
	r      *bufio.Reader
	offset int64 // byte offset of the next record, for error messages
}

// NewReader returns a Reader that decodes records from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReader(r)}
}

// ReadRecord returns the payload of the next record. At a clean end of the
// stream (between records) it returns io.EOF; a stream that ends inside a
// record gives an error wrapping io.ErrUnexpectedEOF, and a checksum mismatch
// an error wrapping ErrCorrupt.
func (r *Reader) ReadRecord() ([]byte, error) {
	var head [12]byte
	n, err := io.ReadFull(r.r, head[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("tfevents: record at offset %d: header (%d of 12 bytes): %w", r.offset, n, io.ErrUnexpectedEOF)
	}
	if got, want := binary.LittleEndian.Uint32(head[8:]), MaskedCRC(head[:8]); got != want {
		return nil, fmt.Errorf("tfevents: record at offset %d: length crc %#08x, want %#08x: %w", r.offset, got, want, ErrCorrupt)
	}
	length := binary.LittleEndian.Uint64(head[:8])
	if length > maxRecord {
		return nil, fmt.Errorf("tfevents: record at offset %d: length %d exceeds %d: %w", r.offset, length, maxRecord, ErrCorrupt)
	}
	// Grow the buffer as bytes arrive, so a truncated file claiming a long
	// record does not allocate the whole claim up front.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r.r, int64(length)+4); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("tfevents: record at offset %d: data (%d of %d bytes): %w", r.offset, buf.Len(), length+4, err)
	}
	body := buf.Bytes()
	data, sum := body[:length], body[length:]
	if got, want := binary.LittleEndian.Uint32(sum), MaskedCRC(data); got != want {
		return nil, fmt.Errorf("tfevents: record at offset %d: data crc %#08x, want %#08x: %w", r.offset, got, want, ErrCorrupt)
	}
	r.offset += int64(length) + 16
	return data, nil
}

// Next reads and decodes the next Event. It returns io.EOF at a clean end of
// the stream and the errors of ReadRecord otherwise; a payload that is not a
// valid Event gives an error wrapping ErrCorrupt.
func (r *Reader) Next() (Event, error) {
	start := r.offset
	data, err := r.ReadRecord()
	if err != nil {
		return Event{}, err
	}
	e, err := unmarshalEvent(data)
	if err != nil {
		return Event{}, fmt.Errorf("tfevents: record at offset %d: %w", start, err)
	}
	return e, nil
}
