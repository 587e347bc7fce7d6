package config

import (
	"fmt"
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
