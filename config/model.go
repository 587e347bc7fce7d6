package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// ModelSection is a model family's typed model: section (everything but
// kind), with yaml tags on its fields.
type ModelSection interface {
	// Validate checks the section against the whole config (the data's
	// shape, the loss), naming the first wrong field as
	// "model.field: what is wrong (how to fix it)".
	Validate(c Config) error
}

// Objectiver is a ModelSection whose family trains on an objective of its
// own rather than the loss: section (a VAE's negative ELBO). Objective
// names it for listings such as kallima inspect.
type Objectiver interface {
	Objective() string
}

// DefaultModelKind is the family of a config that names none.
const DefaultModelKind = "mlp"

var (
	sectionsMu sync.RWMutex
	sections   = map[string]func() ModelSection{}
)

// RegisterModel makes model.kind kind decodable: newSection returns a
// pointer to the family's section filled with its defaults. It is called
// once per family by family.Register; registering a kind twice panics.
func RegisterModel(kind string, newSection func() ModelSection) {
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	if _, dup := sections[kind]; dup || kind == "" {
		panic(fmt.Sprintf("config.RegisterModel: model kind %q registered twice or empty", kind))
	}
	sections[kind] = newSection
}

// ModelKinds lists the registered model kinds, sorted.
func ModelKinds() []string {
	sectionsMu.RLock()
	defer sectionsMu.RUnlock()
	var r []string
	for k := range sections {
		r = append(r, k)
	}
	sort.Strings(r)
	return r
}

// newSection returns kind's default section, or nil for an unknown kind.
func newSection(kind string) ModelSection {
	sectionsMu.RLock()
	defer sectionsMu.RUnlock()
	if f := sections[kind]; f != nil {
		return f()
	}
	return nil
}

// defaultModel is the model of a config that names none: the default
// family's defaults (a nil section when no family is registered, which
// Validate reports).
func defaultModel() Model {
	return Model{Kind: DefaultModelKind, Section: newSection(DefaultModelKind)}
}

// UnmarshalYAML decodes a model: block. A kind that differs from m's
// starts from that family's defaults; otherwise the fields given are laid
// over m's section (as -set model.z_dim=4 does). Unknown fields are errors
// naming the field, its line and the family's fields.
func (m *Model) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("model: line %d: want a mapping such as {kind: dcgan, z_dim: 100}", n.Line)
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	kind := m.Kind
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "kind" {
			if v.ShortTag() == "!!null" {
				// Decoding null would keep the old kind unseen.
				return fmt.Errorf("model.kind: line %d: empty value (want a model family: %s)", v.Line, strings.Join(ModelKinds(), ", "))
			}
			if err := v.Decode(&kind); err != nil {
				return fmt.Errorf("model.kind: line %d: %v", v.Line, err)
			}
			continue
		}
		rest.Content = append(rest.Content, k, v)
	}
	sec := m.Section
	if kind != m.Kind || sec == nil {
		sec = newSection(kind)
	}
	if sec == nil {
		return fmt.Errorf("model.kind: %q is not a model family (have %s)", kind, strings.Join(ModelKinds(), ", "))
	}
	known := fieldNames(sec)
	for i := 0; i < len(rest.Content); i += 2 {
		k := rest.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("model.%s: line %d: field %s not found in model (kind %s; known fields: kind, %s)", k.Value, k.Line, k.Value, kind, strings.Join(known, ", "))
		}
	}
	if err := checkValues(rest, reflect.TypeOf(sec), "model"); err != nil {
		return err
	}
	if err := rest.Decode(sec); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			if p := fieldPath(rest, "model", msg, nil); p != "" {
				return fmt.Errorf("%s: %s", p, msg)
			}
			return fmt.Errorf("model: %s", msg)
		}
		return fmt.Errorf("model: %w", err)
	}
	m.Kind, m.Section = kind, sec
	return nil
}

// MarshalYAML writes kind first, then the section's fields.
func (m Model) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "kind"}, &yaml.Node{Kind: yaml.ScalarNode, Value: m.Kind})
	if m.Section != nil {
		var sec yaml.Node
		if err := sec.Encode(m.Section); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		if sec.Kind == yaml.MappingNode {
			n.Content = append(n.Content, sec.Content...)
		}
	}
	return n, nil
}

// String describes the model in one line: its kind and the section's
// fields that are set, e.g. "dcgan: prior normal, z_dim 100, width 64".
func (m Model) String() string {
	var n yaml.Node
	if m.Section == nil || n.Encode(m.Section) != nil || n.Kind != yaml.MappingNode {
		return m.Kind
	}
	var parts []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case v.Kind == yaml.ScalarNode && (v.Value == "" || v.Value == "0" || v.Value == "false"):
		case v.Kind == yaml.ScalarNode:
			parts = append(parts, k.Value+" "+v.Value)
		case v.Kind == yaml.SequenceNode:
			var xs []string
			for _, x := range v.Content {
				xs = append(xs, x.Value)
			}
			parts = append(parts, k.Value+" ["+strings.Join(xs, ", ")+"]")
		}
	}
	return m.Kind + ": " + strings.Join(parts, ", ")
}
