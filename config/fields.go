package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
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

// withFieldPath prefixes each "line N: ..." message of a decode error with
// the dotted path of the field it is about, e.g. "train.steps: line 2:
// cannot unmarshal ...". Lines of messages of other kinds are left alone.
func withFieldPath(msg string, src []byte) string {
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return msg
	}
	lines := strings.Split(msg, "\n")
	seen := map[string]int{}
	for i, l := range lines {
		body := strings.TrimLeft(l, " ")
		if p := fieldPath(&root, "", body, seen); p != "" {
			lines[i] = l[:len(l)-len(body)] + p + ": " + body
		}
	}
	return strings.Join(lines, "\n")
}

// yaml.v3's decode messages: the line, and what they are about.
var (
	msgLine      = regexp.MustCompile(`^line (\d+): `)
	msgUnmarshal = regexp.MustCompile("^line \\d+: cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into ")
	msgKey       = regexp.MustCompile(`^line \d+: (?:mapping key ("(?:[^"\\]|\\.)*") already defined|field (\S+) not found in type )`)
)

// fieldPath finds the field a yaml.v3 message "line N: ..." is about, under
// n (whose keys are prefixed with prefix), and returns its path, or "" when
// it cannot tell. Line numbers alone do not do: a flow mapping such as
// train: {steps: 10, lr_d: fast} has every field on one line. So the
// message's subject decides: the value it could not decode (a key such as
// lr_d whose value is, or whose list holds, the scalar `fast`), or the key
// it names (a duplicate or unknown one). When several nodes on the line
// match, as in {lr_g: fast, lr_d: fast}, yaml.v3 reports them in document
// order, that is by column, so the k-th message about the same line and
// subject is the k-th match; seen counts the messages so far (nil for one
// message).
func fieldPath(n *yaml.Node, prefix, msg string, seen map[string]int) string {
	m := msgLine.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	line, err := strconv.Atoi(m[1])
	if err != nil {
		return ""
	}
	var match func(k, v *yaml.Node) bool
	subject := ""
	if u := msgUnmarshal.FindStringSubmatch(msg); u != nil {
		tag, value := u[1], u[2]
		subject = "value " + tag + " " + value
		match = func(_, v *yaml.Node) bool { return holds(v, line, tag, value) }
	} else if k := msgKey.FindStringSubmatch(msg); k != nil {
		name := k[2]
		if k[1] != "" {
			if name, err = strconv.Unquote(k[1]); err != nil {
				return ""
			}
		}
		subject = "key " + name
		match = func(key, _ *yaml.Node) bool { return key.Line == line && key.Value == name }
	}
	var hits []string
	if match != nil {
		eachField(n, prefix, func(p string, k, v *yaml.Node) {
			if match(k, v) {
				hits = append(hits, p)
			}
		})
	}
	if len(hits) == 0 {
		// An unknown kind of message: the field on the line, if only one
		// (and its sections) is.
		eachField(n, prefix, func(p string, k, v *yaml.Node) {
			if k.Line == line || v.Line == line {
				hits = append(hits, p)
			}
		})
		if hits = innermost(hits); len(hits) != 1 {
			return ""
		}
	}
	// A section given as {steps: {a: 1}} is itself a mapping on the line;
	// the field inside it is the one meant.
	hits = innermost(hits)
	key := strconv.Itoa(line) + " " + subject
	i := 0
	if seen != nil {
		i = seen[key]
		seen[key]++
	}
	return hits[min(i, len(hits)-1)]
}

// innermost drops the paths that are sections of others in paths.
func innermost(paths []string) []string {
	return slices.DeleteFunc(slices.Clone(paths), func(p string) bool {
		return slices.ContainsFunc(paths, func(q string) bool { return strings.HasPrefix(q, p+".") })
	})
}

// holds reports whether v is, or v's list holds, a node on line with the
// tag and value of a yaml.v3 "cannot unmarshal !!tag `value`" message,
// which cuts values longer than 10 bytes to their first 7 and "...".
func holds(v *yaml.Node, line int, tag, value string) bool {
	if v.Kind == yaml.SequenceNode {
		for _, c := range v.Content {
			if holds(c, line, tag, value) {
				return true
			}
		}
	}
	if v.Line != line || v.ShortTag() != tag {
		return false
	}
	if v.Kind != yaml.ScalarNode {
		return value == ""
	}
	if cut, ok := strings.CutSuffix(value, "..."); ok && len(v.Value) > 10 {
		return strings.HasPrefix(v.Value, cut)
	}
	return v.Value == value
}

// eachField calls f with the path, key and value of every key under n, in
// document order.
func eachField(n *yaml.Node, prefix string, f func(path string, k, v *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			eachField(c, prefix, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			f(p, k, v)
			eachField(v, p, f)
		}
	}
}

// walkValues calls visit with every scalar under n, the type it decodes
// into (pointers kept, so a visitor can tell a nil-able field) and its
// dotted path; t is the type n decodes into. Keys that are not fields are
// skipped (the decoder names them), and so is the model: section, whose
// type depends on its kind (Model.UnmarshalYAML walks it).
func walkValues(n *yaml.Node, t reflect.Type, prefix string, visit func(n *yaml.Node, t reflect.Type, path string) error) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := walkValues(c, t, prefix, visit); err != nil {
				return err
			}
		}
		return nil
	case yaml.ScalarNode:
		return visit(n, t, prefix)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
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
			if err := walkValues(v, f.Type, p, visit); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, c := range n.Content {
				if err := walkValues(c, t.Elem(), prefix, visit); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkValues rejects what yaml.v3 would take silently: a number with a
// fraction (1.5) for an integer field, which it truncates to 1, and an
// empty value (steps: with nothing after it, ~ or null) for a field that
// needs one, which it skips, so the field kept its default or preset
// value unseen ("train.steps: line 2: empty value ..."). Whole numbers
// written as floats (1e4, 100.0) are left to the decoder, which takes them
// exactly. Null stays allowed where it means none: a pointer such as
// data.mixture (a snapshot writes mixture: null) and a whole section
// (model: with nothing under it changes nothing). t is the type n decodes
// into.
func checkValues(n *yaml.Node, t reflect.Type, prefix string) error {
	return walkValues(n, t, prefix, func(n *yaml.Node, t reflect.Type, path string) error {
		if n.ShortTag() == "!!null" {
			switch t.Kind() {
			case reflect.Pointer, reflect.Interface, reflect.Struct:
				return nil
			}
			return fmt.Errorf("%s: line %d: empty value (give it a value, or leave %s out for its default)", path, n.Line, path)
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			var x float64
			if n.ShortTag() == "!!float" && n.Decode(&x) == nil && x != math.Trunc(x) {
				return fmt.Errorf("%s: %s is not an integer", path, n.Value)
			}
		}
		return nil
	})
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
