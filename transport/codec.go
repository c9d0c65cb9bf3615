package transport

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// codecName is the gRPC content-subtype of the transport's messages
// ("application/grpc+cairn-raw" on the wire). It is distinct from "proto",
// so registering it changes nothing for other services.
const codecName = "cairn-raw"

// A gRPC server picks a codec by the content-subtype the client sends,
// from the process-wide registry: the codec must be registered for the
// server side to find it. Clients force it per call (see dialOptions).
func init() { encoding.RegisterCodecV2(rawCodec{}) }

// rawCodec carries bytes through gRPC untouched: the transport frames its
// own messages, so the codec neither knows nor depends on what they hold.
// It marshals only *outMessage and unmarshals only into *inMessage.
type rawCodec struct{}

// Name implements encoding.CodecV2.
func (rawCodec) Name() string { return codecName }

// Marshal hands the message's buffer, and its reference, to gRPC, which
// frees it (back to its pool) once written: the sender must not touch the
// bytes after SendMsg, as gRPC writes them from another goroutine.
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*outMessage)
	if !ok {
		return nil, fmt.Errorf("transport: codec %s cannot marshal %T", codecName, v)
	}
	if m.buf == nil {
		return nil, nil
	}
	buf := m.buf
	m.buf = nil
	return mem.BufferSlice{buf}, nil
}

// Unmarshal copies the message out of gRPC's buffers, which are freed when
// it returns.
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*inMessage)
	if !ok {
		return fmt.Errorf("transport: codec %s cannot unmarshal into %T", codecName, v)
	}
	n := data.Len()
	if m.reuse && cap(m.data) >= n {
		m.data = m.data[:n]
	} else {
		m.data = make([]byte, n)
	}
	data.CopyTo(m.data)
	return nil
}

// outMessage is a message to send. buf holds one reference, which Marshal
// passes on; a nil buf is the empty message.
type outMessage struct {
	buf mem.Buffer
}

// newOutBuffer returns a pooled buffer of n bytes to fill; wrap it with
// (*outMessage).set.
func newOutBuffer(n int) *[]byte { return mem.DefaultBufferPool().Get(n) }

// set makes b the message's buffer, freeing one left unsent.
func (m *outMessage) set(b *[]byte) {
	m.release()
	m.buf = mem.NewBuffer(b, mem.DefaultBufferPool())
}

// release frees a buffer that was never marshaled.
func (m *outMessage) release() {
	if m.buf != nil {
		m.buf.Free()
		m.buf = nil
	}
}

// inMessage is a received message. With reuse set, Unmarshal overwrites
// data in place when it is large enough (for data the receiver has
// finished with); otherwise it allocates (for data the receiver hands
// on).
type inMessage struct {
	data  []byte
	reuse bool
}
