package onnx

import (
	"fmt"
	"strconv"

	"github.com/kallima-gan/kallima/tensor"
)

// graph collects a GraphProto's nodes, initializers, inputs and outputs
// in the order they are added.
type graph struct {
	nodes, inits, inputs, outputs [][]byte
	names                         map[string]bool // initializer names, kept unique
	n                             int             // node count, for output names
}

func newGraph() *graph { return &graph{names: map[string]bool{}} }

// node adds a node of type op reading inputs and returns its one output's
// name.
func (g *graph) node(op string, inputs []string, attrs ...attribute) string {
	g.n++
	out := op + "_" + strconv.Itoa(g.n)
	g.nodeTo(op, inputs, out, attrs...)
	return out
}

// nodeTo adds a node of type op reading inputs and writing out.
func (g *graph) nodeTo(op string, inputs []string, out string, attrs ...attribute) {
	var b []byte
	for _, in := range inputs {
		b = appendString(b, nodeInput, in)
	}
	b = appendString(b, nodeOutput, out)
	b = appendString(b, nodeName, out)
	b = appendString(b, nodeOpType, op)
	for _, a := range attrs {
		b = appendMessage(b, nodeAttribute, a)
	}
	g.nodes = append(g.nodes, b)
}

// unique returns name, or name with a suffix if an initializer has it.
func (g *graph) unique(name string) string {
	n := name
	for i := 1; g.names[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	g.names[n] = true
	return n
}

// float adds a float32 initializer of shape dims holding v (which it
// copies) and returns its name, name made unique.
func (g *graph) float(name string, v []float32, dims ...int) string {
	if n := prod(dims); n != len(v) {
		panic(fmt.Sprintf("onnx: initializer %s: %d values for shape %v", name, len(v), dims))
	}
	name = g.unique(name)
	g.inits = append(g.inits, tensorProto(name, dataFloat, int64s(dims), floatRaw(v)))
	return name
}

// tensor adds t as a float32 initializer of its own shape.
func (g *graph) tensor(name string, t *tensor.Tensor) string {
	return g.float(name, t.Data(), t.Shape()...)
}

// int64s adds a 1-D int64 initializer (a shape, an axis list).
func (g *graph) int64s(name string, v ...int64) string {
	name = g.unique(name)
	g.inits = append(g.inits, tensorProto(name, dataInt64, []int64{int64(len(v))}, int64Raw(v)))
	return name
}

// input declares a graph input; a dimension named in params is symbolic.
func (g *graph) input(name string, elem int64, dims []int64, params ...string) {
	g.inputs = append(g.inputs, valueInfo(name, elem, dims, params))
}

// output declares a graph output.
func (g *graph) output(name string, elem int64, dims []int64, params ...string) {
	g.outputs = append(g.outputs, valueInfo(name, elem, dims, params))
}

// proto encodes the GraphProto.
func (g *graph) proto(name string) []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, graphNode, n)
	}
	b = appendString(b, graphName, name)
	for _, t := range g.inits {
		b = appendMessage(b, graphInitializer, t)
	}
	for _, v := range g.inputs {
		b = appendMessage(b, graphInput, v)
	}
	for _, v := range g.outputs {
		b = appendMessage(b, graphOutput, v)
	}
	return b
}

// model encodes a ModelProto holding graph g (named name) at IRVersion
// and Opset, with the model's doc string doc and metadata entries (key,
// value pairs) for provenance.
func (g *graph) model(name, producerVersion, doc string, meta [][2]string) []byte {
	var opset []byte
	opset = appendString(opset, opsetDomain, "")
	opset = appendInt(opset, opsetVersion, Opset)
	var b []byte
	b = appendInt(b, modelIRVersion, IRVersion)
	b = appendString(b, modelProducerName, "kallima")
	b = appendString(b, modelProducerVer, producerVersion)
	b = appendString(b, modelDocString, doc)
	b = appendMessage(b, modelGraph, g.proto(name))
	b = appendMessage(b, modelOpsetImport, opset)
	for _, kv := range meta {
		var e []byte
		e = appendString(e, entryKey, kv[0])
		e = appendString(e, entryValue, kv[1])
		b = appendMessage(b, modelMetadataProps, e)
	}
	return b
}

func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
