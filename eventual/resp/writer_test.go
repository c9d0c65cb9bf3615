package resp

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// encode returns what f writes with a Writer speaking proto.
func encode(proto int, f func(w *Writer)) string {
	var b bytes.Buffer
	w := NewWriter(&b, 64)
	w.SetProtocol(proto)
	f(w)
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return b.String()
}

func TestWriterTypes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		f            func(w *Writer)
		resp2, resp3 string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
		{"integer", func(w *Writer) { w.Integer(-42) }, ":-42\r\n", ":-42\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"empty bulk", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bulk string", func(w *Writer) { w.BulkString("hi") }, "$2\r\nhi\r\n", "$2\r\nhi\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.ArrayLen(2); w.Integer(1); w.BulkString("x") }, "*2\r\n:1\r\n$1\r\nx\r\n", "*2\r\n:1\r\n$1\r\nx\r\n"},
		{"empty array", func(w *Writer) { w.ArrayLen(0) }, "*0\r\n", "*0\r\n"},
		{"map", func(w *Writer) { w.MapLen(1); w.BulkString("k"); w.Integer(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"set", func(w *Writer) { w.SetLen(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", "~1\r\n$1\r\nm\r\n"},
		{"push", func(w *Writer) { w.PushLen(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", ">1\r\n$1\r\nm\r\n"},
		{"double", func(w *Writer) { w.Double(3.25) }, "$4\r\n3.25\r\n", ",3.25\r\n"},
		{"inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", []byte("a b")) }, "$3\r\na b\r\n", "=7\r\ntxt:a b\r\n"},
		{"error", func(w *Writer) { w.Error("ERR bad") }, "-ERR bad\r\n", "-ERR bad\r\n"},
	} {
		if got := encode(2, tc.f); got != tc.resp2 {
			t.Errorf("%s in RESP2: %q, want %q", tc.name, got, tc.resp2)
		}
		if got := encode(3, tc.f); got != tc.resp3 {
			t.Errorf("%s in RESP3: %q, want %q", tc.name, got, tc.resp3)
		}
	}
}

func TestWriterErrorCodes(t *testing.T) {
	for in, want := range map[string]string{
		"ERR syntax error":              "-ERR syntax error\r\n",
		MsgWrongType:                    "-" + MsgWrongType + "\r\n",
		"-NOSCRIPT No matching script.": "-NOSCRIPT No matching script.\r\n",
		"value is not an integer":       "-ERR value is not an integer\r\n",
		"Protocol error: x":             "-ERR Protocol error: x\r\n", // a capital is not a code
		"OOM":                           "-OOM\r\n",
		"I/O error":                     "-ERR I/O error\r\n",
		"A b":                           "-ERR A b\r\n",
		"":                              "-ERR \r\n",
		"ERR a\r\nb\rc\nd":              "-ERR a  b c d\r\n", // CR and LF cannot break the stream
	} {
		if got := encode(2, func(w *Writer) { w.Error(in) }); got != want {
			t.Errorf("Error(%q) wrote %q, want %q", in, got, want)
		}
	}
	if got := encode(2, func(w *Writer) { w.SimpleString("a\r\nb") }); got != "+a  b\r\n" {
		t.Errorf("SimpleString with CRLF wrote %q", got)
	}
}

func TestWriterDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -2.5: "-2.5", 3.14: "3.14", 0.1: "0.1", 1234567: "1234567",
		1e-4: "0.0001", 1e-5: "1e-05", 1e16: "10000000000000000", 1e17: "1e+17", 1e21: "1e+21",
		math.Inf(-1): "-inf", 1.0 / 3: "0.3333333333333333",
	} {
		if got := string(appendDouble(nil, f)); got != want {
			t.Errorf("appendDouble(%v) = %q, want %q", f, got, want)
		}
	}
	if got := string(appendDouble(nil, math.NaN())); got != "nan" {
		t.Errorf("NaN: %q", got)
	}
}

// The writer's output decodes back to what was written, across buffer
// flushes and large bulks written straight from the caller's slice.
func TestWriterLargeAndMany(t *testing.T) {
	var out recordingWriter
	w := NewWriter(&out, 64)
	big := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
	w.ArrayLen(3)
	w.Bulk(big)
	w.BulkString(string(big[:5000]))
	w.Verbatim("txt", big[:70])
	for i := range 100 {
		w.Integer(int64(i))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	direct := false
	for _, n := range out.sizes {
		if n == len(big) {
			direct = true // written in one call from the caller's slice
		}
		if n > len(big) {
			t.Fatalf("a write of %d bytes: the large bulk was copied into the buffer", n)
		}
	}
	if !direct {
		t.Errorf("no write of exactly %d bytes: writes were %v", len(big), out.sizes)
	}
	br := bufio.NewReader(bytes.NewReader(out.buf.Bytes()))
	r, err := readReply(br)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.elems) != 3 || r.elems[0].text != string(big) || r.elems[1].text != string(big[:5000]) || r.elems[2].text != string(big[:70]) {
		t.Fatalf("array decoded wrong")
	}
	for i := range 100 {
		r, err := readReply(br)
		if err != nil || r.String() != ":"+strconv.Quote(strconv.Itoa(i)) {
			t.Fatalf("reply %d: %v %v", i, r, err)
		}
	}
	if w.replies != 101 {
		t.Fatalf("counted %d replies, want 101", w.replies)
	}
}

type recordingWriter struct {
	buf   bytes.Buffer
	sizes []int
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	return r.buf.Write(p)
}

// The Writer counts whole top-level replies: the server's check that a
// handler wrote exactly one relies on it.
func TestWriterCountsReplies(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, 64)
	w.SetProtocol(3)
	check := func(what string, replies int, complete bool) {
		t.Helper()
		if w.replies != replies || w.complete() != complete {
			t.Fatalf("%s: %d replies, complete %v; want %d, %v", what, w.replies, w.complete(), replies, complete)
		}
	}
	w.ArrayLen(2)
	check("array opened", 0, false)
	w.MapLen(1)
	w.BulkString("k")
	check("inner map half done", 0, false)
	w.SetLen(0)
	check("inner map done", 0, false)
	w.Null()
	check("array done", 1, true)
	w.PushLen(2)
	w.BulkString("message")
	w.ArrayLen(0)
	check("a push is not a reply", 1, true)
	w.Error("ERR x")
	check("an error is a reply", 2, true)
	if w.errs != 1 {
		t.Fatalf("%d errors counted, want 1", w.errs)
	}
}

func TestWriterStickyError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	w := NewWriter(writerFunc(func(p []byte) (int, error) { calls++; return 0, boom }), 64)
	w.SimpleString("OK")
	if err := w.Flush(); err != boom {
		t.Fatalf("Flush: %v", err)
	}
	w.Bulk(bytes.Repeat([]byte("x"), 1000))
	if err := w.Flush(); err != boom || w.Err() != boom || calls != 1 {
		t.Fatalf("after the error: Flush %v, Err %v, %d writes; want the sticky error and no more writes", err, w.Err(), calls)
	}
	short := NewWriter(writerFunc(func(p []byte) (int, error) { return len(p) - 1, nil }), 64)
	short.SimpleString("OK")
	if err := short.Flush(); err == nil {
		t.Fatal("a short write was not an error")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestWriterPanicsOnMisuse(t *testing.T) {
	for name, f := range map[string]func(w *Writer){
		"protocol 4":      func(w *Writer) { w.SetProtocol(4) },
		"negative array":  func(w *Writer) { w.ArrayLen(-1) },
		"verbatim format": func(w *Writer) { w.Verbatim("text", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f(NewWriter(&bytes.Buffer{}, 64))
		}()
	}
}

// A long line grows the buffer until the next flush, and the grown buffer
// is not kept.
func TestWriterLongLineDoesNotKeepGrownBuffer(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, 64)
	long := strings.Repeat("e", 1000)
	w.Error("ERR " + long)
	w.Flush()
	if b.String() != "-ERR "+long+"\r\n" {
		t.Fatalf("wrote %q", b.String())
	}
	w.SimpleString("OK")
	if cap(w.buf) != 64 {
		t.Fatalf("buffer capacity %d after the flush, want 64", cap(w.buf))
	}
}
