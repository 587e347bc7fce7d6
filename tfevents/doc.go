// Package tfevents writes and reads TensorBoard event files without a
// protobuf library.
//
// An event file is a sequence of TFRecord frames,
//
//	uint64 length | uint32 masked crc32c(length) | data | uint32 masked crc32c(data)
//
// (all little endian; see MaskedCRC), whose data are tensorflow.Event
// protocol buffers encoded by hand (see Event, Value and Image for the
// fields used). The first record holds file_version "brain.Event:2"; the
// rest hold summaries: scalars (Writer.Scalar) and PNG images
// (Writer.Image). Reader and ReadFile parse such files back, verifying both
// checksums of each record.
//
// The encoding is byte-identical to the Python protobuf runtime's for the
// same messages: testdata/events.py writes testdata/golden.tfevents with it
// and can check any written file (`events.py check FILE`).
package tfevents
