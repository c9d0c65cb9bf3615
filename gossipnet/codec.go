package gossipnet

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// codecName is the gRPC content-subtype of the push-pull service
// ("application/grpc+cairn-gossip" on the wire). The transport's
// "cairn-raw" codec only reads and writes the transport's own message
// types, so the gossip service brings its own; a distinct name leaves
// every other service on the peer server untouched.
const codecName = "cairn-gossip"

// The server finds a codec by the content-subtype the client sends, in
// gRPC's process-wide registry; clients force it per call.
func init() { encoding.RegisterCodecV2(rawCodec{}) }

// rawCodec moves a rawMessage's bytes through gRPC untouched: the
// payload is a gossip.Message in the core's wire format.
type rawCodec struct{}

// rawMessage is the request and the response of PushPull.
type rawMessage struct{ data []byte }

// Name implements encoding.CodecV2.
func (rawCodec) Name() string { return codecName }

// Marshal hands the bytes to gRPC by reference; the caller does not touch
// them afterwards.
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("gossipnet: codec %s cannot marshal %T", codecName, v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
}

// Unmarshal copies the message out of gRPC's buffers, which are freed
// when it returns. gRPC has already enforced its receive limit.
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("gossipnet: codec %s cannot unmarshal into %T", codecName, v)
	}
	m.data = data.Materialize()
	return nil
}
