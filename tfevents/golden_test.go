package tfevents

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"testing"
)

// goldenEvents are the events testdata/events.py serialized with the Python
// protobuf runtime into testdata/golden.tfevents.
var goldenEvents = []Event{
	{WallTime: 1700000000.25, FileVersion: "brain.Event:2"},
	{WallTime: 1700000001.5, Step: 1, HasSummary: true, Values: []Value{{Tag: "loss/d", Kind: KindScalar, Scalar: 0.6931}}},
	{WallTime: 1700000002.0, HasSummary: true, Values: []Value{{Tag: "zero", Kind: KindScalar, Scalar: 0}}},
	{WallTime: 1700000003.125, Step: -3, HasSummary: true, Values: []Value{{Tag: "neg", Kind: KindScalar, Scalar: -1e-30}}},
	{WallTime: 1700000004.0, Step: 1 << 40, HasSummary: true, Values: []Value{
		{Tag: "a", Kind: KindScalar, Scalar: float32(math.Inf(1))},
		{Tag: "samples", Kind: KindImage, Image: &Image{Height: 2, Width: 3, Colorspace: 3, Encoded: []byte("\x89PNG\r\n\x1a\nfake")}},
	}},
	{WallTime: 1700000005.0, Step: 5, HasSummary: true},
	{WallTime: 1700000006.0, Step: 6, HasSummary: true, Values: []Value{{Tag: "λ/ß", Kind: KindScalar, Scalar: 3.5}}},
}

// TestGoldenDecode reads the Python-written file and compares every field.
func TestGoldenDecode(t *testing.T) {
	got, err := ReadFile("testdata/golden.tfevents")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(goldenEvents) {
		t.Fatalf("%d events, want %d", len(got), len(goldenEvents))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], goldenEvents[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], goldenEvents[i])
		}
	}
}

// TestGoldenEncode checks the hand-written encoder is byte-identical to the
// protobuf runtime, framing included.
func TestGoldenEncode(t *testing.T) {
	want, err := os.ReadFile("testdata/golden.tfevents")
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, e := range goldenEvents {
		got = appendRecord(got, marshalEvent(e))
	}
	if !bytes.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference at byte %d of %d/%d: got %#02x, want %#02x", i, len(got), len(want), got[i], want[i])
			}
		}
		t.Fatalf("lengths differ: got %d bytes, want %d", len(got), len(want))
	}
}
