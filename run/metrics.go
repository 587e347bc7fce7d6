package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Record is one line of metrics.jsonl: the scalars logged at one training
// step. It is written as one JSON object,
//
//	{"step":100,"wall_time":1712345678.25,"scalars":{"d/loss":0.69,"g/loss":0.71}}
//
// with the scalars' keys sorted. JSON has no NaN or infinities, so those
// values (a diverging loss) are written as the strings "NaN", "Infinity" and
// "-Infinity", which Python's float() and JavaScript's Number() read back.
type Record struct {
	Step int
	// WallTime is when the record was logged, in seconds since the Unix
	// epoch (TensorBoard's convention).
	WallTime float64
	Scalars  map[string]float64
}

// MarshalJSON encodes r as described on Record.
func (r Record) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+32*len(r.Scalars))
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, int64(r.Step), 10)
	b = append(b, `,"wall_time":`...)
	b = appendNumber(b, r.WallTime)
	b = append(b, `,"scalars":{`...)
	for i, k := range slices.Sorted(maps.Keys(r.Scalars)) {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b = append(b, key...)
		b = append(b, ':')
		b = appendNumber(b, r.Scalars[k])
	}
	return append(b, "}}"...), nil
}

// appendNumber appends v as a JSON number, or as one of the strings "NaN",
// "Infinity", "-Infinity".
func appendNumber(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// UnmarshalJSON decodes a Record written by MarshalJSON.
func (r *Record) UnmarshalJSON(b []byte) error {
	var raw struct {
		Step     *int                       `json:"step"`
		WallTime json.RawMessage            `json:"wall_time"`
		Scalars  map[string]json.RawMessage `json:"scalars"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.Step == nil {
		return fmt.Errorf("record has no step")
	}
	wall, err := parseNumber(raw.WallTime)
	if err != nil {
		return fmt.Errorf("wall_time: %w", err)
	}
	scalars := make(map[string]float64, len(raw.Scalars))
	for k, v := range raw.Scalars {
		if scalars[k], err = parseNumber(v); err != nil {
			return fmt.Errorf("scalar %q: %w", k, err)
		}
	}
	*r = Record{Step: *raw.Step, WallTime: wall, Scalars: scalars}
	return nil
}

// parseNumber reads a JSON number or one of "NaN", "Infinity", "-Infinity".
func parseNumber(b json.RawMessage) (float64, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%s is not a number", b)
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, err
	}
	return v, nil
}

// Log appends a record of scalars at step to metrics.jsonl, in one write
// so that the line reaches the operating system whole (the file is synced
// at each checkpoint and at Close), and adds each scalar to TensorBoard
// under its key. A gan.Logs map can be passed as it is.
func (r *Run) Log(step int, scalars map[string]float64) error {
	rec := Record{Step: step, WallTime: float64(time.Now().UnixNano()) / 1e9, Scalars: scalars}
	line, err := rec.MarshalJSON()
	if err != nil {
		return fmt.Errorf("run: log step %d: %w", step, err)
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, err := r.metrics.Write(line); err != nil {
		return fmt.Errorf("run: log step %d: %w", step, err)
	}
	ev, err := r.eventWriter()
	if err != nil {
		return fmt.Errorf("run: log step %d: %w", step, err)
	}
	for _, k := range slices.Sorted(maps.Keys(scalars)) {
		if err := ev.Scalar(k, int64(step), scalars[k]); err != nil {
			return fmt.Errorf("run: log step %d: %w", step, err)
		}
	}
	return nil
}

// Metrics reads the run's metrics.jsonl; see ReadMetrics.
func (r *Run) Metrics() ([]Record, error) {
	return ReadMetrics(filepath.Join(r.dir, MetricsFile))
}

// ReadMetrics reads the records of a metrics.jsonl file in order. A last
// line without its newline that does not parse (a write cut short by a
// crash) is ignored; a line that does not parse anywhere else is an error
// naming the line, returned with the records before it.
func ReadMetrics(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	var recs []Record
	for n := 1; len(b) > 0; n++ {
		line, rest, complete := bytes.Cut(b, []byte{'\n'})
		b = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			if !complete {
				break // torn last line
			}
			return recs, fmt.Errorf("run: %s line %d: %w", path, n, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// repairTail makes a metrics file end with a newline before appending to
// it: a last line without one is kept (newline added) if it parses as a
// Record and cut off otherwise. It returns the number of bytes cut.
func repairTail(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 || b[len(b)-1] == '\n' {
		return 0, err
	}
	start := bytes.LastIndexByte(b, '\n') + 1
	var rec Record
	if json.Unmarshal(b[start:], &rec) == nil {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return 0, err
		}
		_, err = f.Write([]byte{'\n'})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return 0, err
	}
	return len(b) - start, os.Truncate(path, int64(start))
}

// rewindMetrics rewrites metrics.jsonl atomically without the records
// logged after step, and reopens it for appending. The caller holds r.mu.
func (r *Run) rewindMetrics(step int) error {
	path := filepath.Join(r.dir, MetricsFile)
	if err := r.metrics.Sync(); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// Keep the kept lines' bytes as they are; drop a torn last line.
	var out []byte
	dropped := 0
	for n := 1; len(b) > 0; n++ {
		line, rest, complete := bytes.Cut(b, []byte{'\n'})
		b = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			if !complete {
				break
			}
			return fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if rec.Step > step {
			dropped++
			continue
		}
		out = append(append(out, line...), '\n')
	}
	if dropped == 0 {
		return nil
	}
	if err := writeAtomic(path, out); err != nil {
		return err
	}
	m, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.metrics.Close()
	r.metrics = m
	return nil
}
