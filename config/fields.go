package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// fieldNames lists a struct's (or a pointer to a struct's) YAML field
// names, those of inlined structs included.
func fieldNames(v any) []string {
	return typeFields(reflect.TypeOf(v))
}

func typeFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var r []string
	for i := 0; i < t.NumField(); i++ {
		tag, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(opts, "inline"):
			r = append(r, typeFields(t.Field(i).Type)...)
		case tag != "" && tag != "-":
			r = append(r, tag)
		}
	}
	return r
}

// withFieldPath prefixes "line N: ..." messages with the dotted path of the
// field on that line, e.g. "train.steps: line 2: cannot unmarshal ...".
func withFieldPath(msg string, src []byte) string {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return msg
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return msg
	}
	if p := pathAt(&root, line, ""); p != "" {
		return p + ": " + msg
	}
	return msg
}

// pathAt finds the key whose value starts on line and returns its path.
func pathAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, prefix); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if q := pathAt(v, line, p); q != "" {
				return q
			}
			if k.Line == line || v.Line == line {
				return p
			}
		}
	}
	return ""
}

// fractionalInt finds a number with a fraction (1.5) given for an integer
// field under n, which yaml.v3 would silently truncate to 1, and names it:
// "train.steps: 1.5 is not an integer". Whole numbers written as floats
// (1e4, 100.0) are left to the decoder, which takes them exactly. t is the
// type n decodes into; the model: section, whose type depends on its kind,
// is checked by Model.UnmarshalYAML.
func fractionalInt(n *yaml.Node, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := fractionalInt(c, t, prefix); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(Model{}) {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				continue // the decoder names unknown fields
			}
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if err := fractionalInt(v, f.Type, p); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, c := range n.Content {
				if err := fractionalInt(c, t.Elem(), prefix); err != nil {
					return err
				}
			}
		}
	case yaml.ScalarNode:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			var x float64
			if n.ShortTag() == "!!float" && n.Decode(&x) == nil && x != math.Trunc(x) {
				return fmt.Errorf("%s: %s is not an integer", prefix, n.Value)
			}
		}
	}
	return nil
}

// fieldByTag finds the struct field (inlined structs included) whose yaml
// name is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if g, ok := fieldByTag(ft, name); ok {
					return g, true
				}
			}
			continue
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
