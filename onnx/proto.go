package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto), the
// messages this package writes. Only the fields it sets are listed.
const (
	// ModelProto
	modelIRVersion     protowire.Number = 1
	modelProducerName  protowire.Number = 2
	modelProducerVer   protowire.Number = 3
	modelDocString     protowire.Number = 6
	modelGraph         protowire.Number = 7
	modelOpsetImport   protowire.Number = 8
	modelMetadataProps protowire.Number = 14

	// OperatorSetIdProto
	opsetDomain  protowire.Number = 1
	opsetVersion protowire.Number = 2

	// StringStringEntryProto
	entryKey   protowire.Number = 1
	entryValue protowire.Number = 2

	// GraphProto
	graphNode        protowire.Number = 1
	graphName        protowire.Number = 2
	graphInitializer protowire.Number = 5
	graphInput       protowire.Number = 11
	graphOutput      protowire.Number = 12

	// NodeProto
	nodeInput     protowire.Number = 1
	nodeOutput    protowire.Number = 2
	nodeName      protowire.Number = 3
	nodeOpType    protowire.Number = 4
	nodeAttribute protowire.Number = 5

	// AttributeProto
	attrName    protowire.Number = 1
	attrF       protowire.Number = 2
	attrI       protowire.Number = 3
	attrS       protowire.Number = 4
	attrInts    protowire.Number = 8
	attrType    protowire.Number = 20
	attrFloat                    = 1 // AttributeProto.AttributeType FLOAT
	attrInt                      = 2 // INT
	attrString                   = 3 // STRING
	attrIntList                  = 7 // INTS

	// TensorProto
	tensorDims     protowire.Number = 1
	tensorDataType protowire.Number = 2
	tensorName     protowire.Number = 8
	tensorRawData  protowire.Number = 9
	dataFloat                       = 1 // TensorProto.DataType FLOAT
	dataInt64                       = 7 // INT64

	// ValueInfoProto
	valueName protowire.Number = 1
	valueType protowire.Number = 2

	// TypeProto and TypeProto.Tensor
	typeTensor     protowire.Number = 1
	tensorElemType protowire.Number = 1
	tensorShape    protowire.Number = 2
	shapeDim       protowire.Number = 1 // TensorShapeProto.dim
	dimValue       protowire.Number = 1 // TensorShapeProto.Dimension.dim_value
	dimParam       protowire.Number = 2 // TensorShapeProto.Dimension.dim_param
)

// Versions written: IR version 8 (ONNX 1.12) with the default domain's
// opset 17.
const (
	IRVersion = 8
	Opset     = 17
)

// appendString appends field num as a length-delimited string.
func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage appends field num holding the encoded message m.
func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// appendInt appends field num as a varint (int32, int64 and enum fields).
func appendInt(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// tensorProto encodes a named initializer of data type dt and dims whose
// little-endian contents are raw.
func tensorProto(name string, dt int64, dims []int64, raw []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = appendInt(b, tensorDims, d)
	}
	b = appendInt(b, tensorDataType, dt)
	b = appendString(b, tensorName, name)
	b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

// floatRaw is v as little-endian float32 bytes, TensorProto's raw_data.
func floatRaw(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// int64Raw is v as little-endian int64 bytes.
func int64Raw(v []int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}

// valueInfo encodes a graph input or output of element type elem whose
// dimensions are dims, where a dimension given by name in params (the
// same index) is symbolic.
func valueInfo(name string, elem int64, dims []int64, params []string) []byte {
	var shape []byte
	for i, d := range dims {
		var dim []byte
		if i < len(params) && params[i] != "" {
			dim = appendString(dim, dimParam, params[i])
		} else {
			dim = appendInt(dim, dimValue, d)
		}
		shape = appendMessage(shape, shapeDim, dim)
	}
	var tt []byte
	tt = appendInt(tt, tensorElemType, elem)
	tt = appendMessage(tt, tensorShape, shape)
	var typ []byte
	typ = appendMessage(typ, typeTensor, tt)
	var b []byte
	b = appendString(b, valueName, name)
	return appendMessage(b, valueType, typ)
}

// attribute is one encoded AttributeProto.
type attribute []byte

// intAttr is an INT attribute.
func intAttr(name string, v int64) attribute {
	b := appendString(nil, attrName, name)
	b = appendInt(b, attrI, v)
	return appendInt(b, attrType, attrInt)
}

// floatAttr is a FLOAT attribute.
func floatAttr(name string, v float32) attribute {
	b := appendString(nil, attrName, name)
	b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, math.Float32bits(v))
	return appendInt(b, attrType, attrFloat)
}

// stringAttr is a STRING attribute.
func stringAttr(name, v string) attribute {
	b := appendString(nil, attrName, name)
	b = appendString(b, attrS, v)
	return appendInt(b, attrType, attrString)
}

// intsAttr is an INTS attribute.
func intsAttr(name string, v ...int64) attribute {
	b := appendString(nil, attrName, name)
	for _, x := range v {
		b = appendInt(b, attrInts, x)
	}
	return appendInt(b, attrType, attrIntList)
}
