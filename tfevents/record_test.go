package tfevents

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

// TestMaskedCRC checks CRC-32C and its masking against known values. The
// raw CRCs are the standard check value ("123456789") and the iSCSI vectors
// of RFC 3720 appendix B.4. The masked value for "123456789" by hand:
//
//	c        = 0xE3069283
//	c >> 15  = 0x0001C60D   (0xE306 << 1 | top bit of 0x9283)
//	c << 17  = 0x25060000   (low 15 bits 0x1283 moved up 17, mod 2^32)
//	or       = 0x2507C60D
//	+ delta  = 0x2507C60D + 0xA282EAD8 = 0xC78AB0E5
//
// The other masked values come from testdata/events.py's pure-Python CRC.
func TestMaskedCRC(t *testing.T) {
	ascending := make([]byte, 32)
	for i := range ascending {
		ascending[i] = byte(i)
	}
	cases := []struct {
		name        string
		in          []byte
		crc, masked uint32
	}{
		{"check string", []byte("123456789"), 0xE3069283, 0xC78AB0E5},
		{"32 zeros", make([]byte, 32), 0x8A9136AA, 0x0FD7FFFA},
		{"32 0xff", bytes.Repeat([]byte{0xff}, 32), 0x62A8AB43, 0xF909B029},
		{"ascending", ascending, 0x46DD794E, 0x951F7892},
		{"empty", nil, 0, 0xA282EAD8},
	}
	for _, c := range cases {
		if got := crc32.Checksum(c.in, castagnoli); got != c.crc {
			t.Errorf("%s: crc32c = %#08x, want %#08x", c.name, got, c.crc)
		}
		if got := MaskedCRC(c.in); got != c.masked {
			t.Errorf("%s: masked = %#08x, want %#08x", c.name, got, c.masked)
		}
	}
}

// TestRecordFraming checks the byte layout of one framed record.
func TestRecordFraming(t *testing.T) {
	data := []byte("123456789")
	rec := appendRecord(nil, data)
	want := []byte{
		9, 0, 0, 0, 0, 0, 0, 0, // length, little endian
	}
	lc := MaskedCRC(want)
	want = append(want, byte(lc), byte(lc>>8), byte(lc>>16), byte(lc>>24))
	want = append(want, data...)
	want = append(want, 0xE5, 0xB0, 0x8A, 0xC7) // 0xC78AB0E5 little endian
	if !bytes.Equal(rec, want) {
		t.Fatalf("record\n got % x\nwant % x", rec, want)
	}
	r := NewReader(bytes.NewReader(append(rec, rec...)))
	for i := 0; i < 2; i++ {
		got, err := r.ReadRecord()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("record %d: %q, %v", i, got, err)
		}
	}
	if _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("after last record: %v, want io.EOF", err)
	}
}

// TestReaderDetectsCorruption flips each byte of a two-record stream in turn
// and truncates it at every length: every flip must give ErrCorrupt (a flip in
// a length that still passes would need a CRC collision) and every cut inside
// a record io.ErrUnexpectedEOF.
func TestReaderDetectsCorruption(t *testing.T) {
	e1 := marshalEvent(Event{WallTime: 1.5, FileVersion: FileVersion})
	e2 := marshalEvent(Event{WallTime: 2.5, Step: 7, Values: []Value{{Tag: "x", Kind: KindScalar, Scalar: 0.25}}})
	stream := appendRecord(appendRecord(nil, e1), e2)
	readAll := func(b []byte) error {
		r := NewReader(bytes.NewReader(b))
		for {
			if _, err := r.Next(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	if err := readAll(stream); err != nil {
		t.Fatalf("intact stream: %v", err)
	}
	for i := range stream {
		for _, mask := range []byte{0x01, 0x80} {
			bad := bytes.Clone(stream)
			bad[i] ^= mask
			if err := readAll(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: error %v, want ErrCorrupt", i, mask, err)
			}
		}
	}
	boundary := len(appendRecord(nil, e1))
	for n := 1; n < len(stream); n++ {
		err := readAll(stream[:n])
		if n == boundary {
			if err != nil {
				t.Fatalf("cut at record boundary %d: %v", n, err)
			}
			continue
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d of %d: error %v, want io.ErrUnexpectedEOF", n, len(stream), err)
		}
	}
}

// TestReaderRejectsHugeLength checks that a well-checksummed length beyond
// the limit is corruption, not an allocation.
func TestReaderRejectsHugeLength(t *testing.T) {
	head := []byte{0, 0, 0, 0, 0, 0, 0, 0x40}
	c := MaskedCRC(head)
	head = append(head, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
	_, err := NewReader(bytes.NewReader(head)).ReadRecord()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v, want ErrCorrupt", err)
	}
}

// FuzzReader feeds arbitrary bytes to the reader: it must return events or
// errors, never panic, and never report both members of Event's oneof.
func FuzzReader(f *testing.F) {
	f.Add(appendRecord(nil, marshalEvent(Event{WallTime: 1, FileVersion: FileVersion})))
	f.Add(appendRecord(nil, marshalEvent(Event{WallTime: 2, Step: -1, Values: []Value{
		{Tag: "s", Kind: KindScalar, Scalar: 1},
		{Tag: "i", Kind: KindImage, Image: &Image{Height: 1, Width: 2, Colorspace: 3, Encoded: []byte{1, 2}}},
	}})))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for i := 0; i < 64; i++ {
			e, err := r.Next()
			if err != nil {
				return
			}
			if e.FileVersion != "" && e.HasSummary {
				t.Fatalf("decoded both oneof members: %+v", e)
			}
		}
	})
}
