package raftpb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"pgregory.net/rapid"
)

// Generators. Empty byte strings and lists are drawn as nil, the form the
// decoders return (see the codec's canonical rules).

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func genBytes(max int) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		return nilIfEmpty(rapid.SliceOfN(rapid.Byte(), 0, max).Draw(t, "bytes"))
	})
}

func genEntry() *rapid.Generator[Entry] {
	return rapid.Custom(func(t *rapid.T) Entry {
		return Entry{
			Type:  rapid.SampledFrom([]EntryType{EntryNormal, EntryConfChange}).Draw(t, "type"),
			Term:  rapid.Uint64().Draw(t, "term"),
			Index: rapid.Uint64().Draw(t, "index"),
			Data:  genBytes(300).Draw(t, "data"),
		}
	})
}

func genIDs() *rapid.Generator[[]uint64] {
	return rapid.Custom(func(t *rapid.T) []uint64 {
		return nilIfEmpty(rapid.SliceOfN(rapid.Uint64Min(1), 0, 7).Draw(t, "ids"))
	})
}

func genSnapshot() *rapid.Generator[Snapshot] {
	return rapid.Custom(func(t *rapid.T) Snapshot {
		return Snapshot{
			Metadata: SnapshotMetadata{
				Index: rapid.Uint64().Draw(t, "index"),
				Term:  rapid.Uint64().Draw(t, "term"),
				ConfState: ConfState{
					Voters:         genIDs().Draw(t, "voters"),
					Learners:       genIDs().Draw(t, "learners"),
					VotersOutgoing: genIDs().Draw(t, "votersOutgoing"),
					LearnersNext:   genIDs().Draw(t, "learnersNext"),
					AutoLeave:      rapid.Bool().Draw(t, "autoLeave"),
				},
			},
			Data: genBytes(100).Draw(t, "data"),
		}
	})
}

func genMessage() *rapid.Generator[Message] {
	return rapid.Custom(func(t *rapid.T) Message {
		m := Message{
			Type:       MessageType(rapid.IntRange(int(MsgHup), int(MsgPreVoteResp)).Draw(t, "type")),
			From:       rapid.Uint64().Draw(t, "from"),
			To:         rapid.Uint64().Draw(t, "to"),
			Term:       rapid.Uint64().Draw(t, "term"),
			LogTerm:    rapid.Uint64().Draw(t, "logTerm"),
			Index:      rapid.Uint64().Draw(t, "index"),
			Commit:     rapid.Uint64().Draw(t, "commit"),
			Reject:     rapid.Bool().Draw(t, "reject"),
			RejectHint: rapid.Uint64().Draw(t, "rejectHint"),
			Context:    genBytes(20).Draw(t, "context"),
			Entries:    nilIfEmpty(rapid.SliceOfN(genEntry(), 0, 8).Draw(t, "entries")),
		}
		if rapid.Bool().Draw(t, "hasSnapshot") {
			s := genSnapshot().Draw(t, "snapshot")
			m.Snapshot = &s
		}
		return m
	})
}

// checkRoundTrip encodes v after a junk prefix (Append must keep dst),
// decodes it, and checks the value and the canonical re-encoding.
func checkRoundTrip[T any](t *rapid.T, v T, appendFn func([]byte, T) []byte, unmarshal func([]byte) (T, error)) {
	prefix := []byte("prefix")
	enc := appendFn(append([]byte(nil), prefix...), v)
	if !bytes.Equal(enc[:len(prefix)], prefix) {
		t.Fatalf("Append overwrote dst: %q", enc[:len(prefix)])
	}
	enc = enc[len(prefix):]
	got, err := unmarshal(enc)
	if err != nil {
		t.Fatalf("decode of %+v: %v", v, err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
	}
	if again := appendFn(nil, got); !bytes.Equal(again, enc) {
		t.Fatalf("re-encoding differs:\n%x\n%x", again, enc)
	}
}

func TestMessageRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genMessage().Draw(t, "m"), AppendMessage, UnmarshalMessage)
	})
}

func TestEntryRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genEntry().Draw(t, "e"), AppendEntry, UnmarshalEntry)
	})
}

func TestHardStateRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := HardState{Term: rapid.Uint64().Draw(t, "term"), Vote: rapid.Uint64().Draw(t, "vote"), Commit: rapid.Uint64().Draw(t, "commit")}
		checkRoundTrip(t, h, AppendHardState, UnmarshalHardState)
	})
}

func TestSnapshotRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrip(t, genSnapshot().Draw(t, "s"), AppendSnapshot, UnmarshalSnapshot)
	})
}

// TestMessageEmptySnapshotIsKept checks that a present but empty snapshot
// survives, distinct from a nil one.
func TestMessageEmptySnapshotIsKept(t *testing.T) {
	m, err := UnmarshalMessage(AppendMessage(nil, Message{Type: MsgSnap, Snapshot: &Snapshot{}}))
	if err != nil || m.Snapshot == nil || !m.Snapshot.IsEmpty() {
		t.Fatalf("got %+v, %v", m, err)
	}
	m, err = UnmarshalMessage(AppendMessage(nil, Message{Type: MsgSnap}))
	if err != nil || m.Snapshot != nil {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// TestMessageEncodingIsPinned pins version 1 of the layout: a change to it
// must come with a new format version.
func TestMessageEncodingIsPinned(t *testing.T) {
	m := Message{Type: MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 5, Commit: 4,
		Reject: true, RejectHint: 300, Context: []byte("c"),
		Entries:  []Entry{{Type: EntryNormal, Term: 3, Index: 6, Data: []byte("x")}},
		Snapshot: &Snapshot{Metadata: SnapshotMetadata{Index: 1, Term: 1, ConfState: ConfState{Voters: []uint64{1}, AutoLeave: true}}}}
	want := []byte{
		1, byte(MsgApp), 3, // version, type, flags reject|snapshot
		1, 2, 3, 2, 5, 4, 0xac, 0x02, // from..rejectHint (300)
		1, 'c', // context
		1, byte(EntryNormal), 3, 6, 1, 'x', // one entry
		1, 1, 1, 1, 1, 0, 0, 0, 0, // snapshot: index, term, autoleave, voters (1), 3 empty lists, data
	}
	if got := AppendMessage(nil, m); !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\n got %v\nwant %v", got, want)
	}
}

func TestUnmarshalAliasesInput(t *testing.T) {
	enc := AppendEntry(nil, Entry{Type: EntryNormal, Term: 1, Index: 1, Data: []byte("abc")})
	e, err := UnmarshalEntry(enc)
	if err != nil {
		t.Fatal(err)
	}
	if &e.Data[0] != &enc[len(enc)-3] {
		t.Fatal("Entry.Data does not alias the input as documented")
	}
	if cap(e.Data) != len(e.Data) {
		t.Fatalf("Entry.Data cap %d > len %d: appending would write into the input", cap(e.Data), len(e.Data))
	}
}

func TestDecodersRejectBadInput(t *testing.T) {
	goodMsg := AppendMessage(nil, Message{Type: MsgApp, From: 1, To: 2, Context: []byte("ctx"),
		Entries:  []Entry{{Type: EntryNormal, Term: 1, Index: 1, Data: []byte("d")}},
		Snapshot: &Snapshot{Metadata: SnapshotMetadata{Index: 1, ConfState: ConfState{Voters: []uint64{7}}}}})
	with := func(b []byte, i int, v byte) []byte {
		c := bytes.Clone(b)
		c[i] = v
		return c
	}
	cases := []struct {
		name   string
		decode func([]byte) error
		in     []byte
		field  string
	}{
		{"empty message", msgErr, nil, "version"},
		{"bad version", msgErr, with(goodMsg, 0, 2), "version"},
		{"zero type", msgErr, with(goodMsg, 1, 0), "type"},
		{"unknown type", msgErr, with(goodMsg, 1, byte(MsgPreVoteResp)+1), "type"},
		{"unknown flag", msgErr, with(goodMsg, 2, 4|msgFlagSnapshot), "flags"},
		{"trailing byte", msgErr, append(bytes.Clone(goodMsg), 0), "end"},
		{"non-minimal varint", msgErr, []byte{1, byte(MsgHeartbeat), 0, 0x81, 0x00}, "from"},
		{"overflowing varint", msgErr, append([]byte{1, byte(MsgHeartbeat), 0}, bytes.Repeat([]byte{0xff}, 10)...), "from"},
		{"context beyond input", msgErr, []byte{1, byte(MsgHeartbeat), 0, 0, 0, 0, 0, 0, 0, 0, 5, 'a'}, "context"},
		{"entry count beyond input", msgErr, []byte{1, byte(MsgApp), 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0}, "entries"},
		{"entry count over limit", msgErr, binary.AppendUvarint([]byte{1, byte(MsgApp), 0, 0, 0, 0, 0, 0, 0, 0, 0}, MaxEntriesPerMessage+1), "entries"},
		{"entry type zero", entryErr, []byte{1, 0, 1, 1, 0}, "entry type"},
		{"entry type unknown", entryErr, []byte{1, 3, 1, 1, 0}, "entry type"},
		{"entry data beyond input", entryErr, []byte{1, 1, 1, 1, 2, 'x'}, "entry data"},
		{"hard state truncated", hardStateErr, []byte{1, 1, 1}, "commit"},
		{"hard state trailing", hardStateErr, []byte{1, 1, 1, 1, 1}, "end"},
		{"node id zero", snapshotErr, []byte{1, 1, 1, 0, 1, 0, 0, 0, 0, 0}, "voters"},
		{"conf flags unknown", snapshotErr, []byte{1, 1, 1, 2, 0, 0, 0, 0, 0}, "conf state flags"},
		{"id count beyond input", snapshotErr, []byte{1, 1, 1, 0, 9, 1, 1}, "voters"},
	}
	for _, c := range cases {
		err := c.decode(c.in)
		var de *DecodeError
		if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) {
			t.Errorf("%s: got %v, want a DecodeError", c.name, err)
			continue
		}
		if de.Field != c.field {
			t.Errorf("%s: failed at field %q (%v), want %q", c.name, de.Field, err, c.field)
		}
	}
	// Every strict prefix of a valid encoding is rejected.
	for i := range goodMsg {
		if msgErr(goodMsg[:i]) == nil {
			t.Errorf("prefix of %d bytes accepted", i)
		}
	}
}

func msgErr(b []byte) error       { _, err := UnmarshalMessage(b); return err }
func entryErr(b []byte) error     { _, err := UnmarshalEntry(b); return err }
func hardStateErr(b []byte) error { _, err := UnmarshalHardState(b); return err }
func snapshotErr(b []byte) error  { _, err := UnmarshalSnapshot(b); return err }

// TestHostileCountsDoNotAllocate checks that a count larger than the input
// could hold is rejected before any slice is made for it.
func TestHostileCountsDoNotAllocate(t *testing.T) {
	hostile := binary.AppendUvarint([]byte{1, byte(MsgApp), 0, 0, 0, 0, 0, 0, 0, 0, 0}, MaxEntriesPerMessage)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if msgErr(hostile) == nil {
			t.Fatal("accepted")
		}
	}
	runtime.ReadMemStats(&after)
	// Only the DecodeError and its message; the entries would take 48 MiB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
		t.Fatalf("rejecting a hostile count allocated %d bytes", got)
	}
}

// fuzzStable checks, for input the decoder accepts, that the value
// re-encodes to exactly the input (the codec is canonical) and decodes again
// to the same value.
func fuzzStable[T any](t *testing.T, b []byte, appendFn func([]byte, T) []byte, unmarshal func([]byte) (T, error)) {
	v, err := unmarshal(b)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not match ErrMalformed", err)
		}
		return
	}
	enc := appendFn(nil, v)
	if !bytes.Equal(enc, b) {
		t.Fatalf("accepted input is not canonical:\n in %x\nout %x", b, enc)
	}
	again, err := unmarshal(enc)
	if err != nil || !reflect.DeepEqual(again, v) {
		t.Fatalf("decode→encode→decode of %+v: %+v, %v", v, again, err)
	}
}

func FuzzUnmarshalMessage(f *testing.F) {
	f.Add(AppendMessage(nil, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 5, Commit: 3, Context: []byte("r")}))
	f.Add(AppendMessage(nil, benchMsgApp(3, 8)))
	f.Add(AppendMessage(nil, Message{Type: MsgSnap, Snapshot: &Snapshot{Metadata: SnapshotMetadata{Index: 9, Term: 2,
		ConfState: ConfState{Voters: []uint64{1, 2}, VotersOutgoing: []uint64{1}, AutoLeave: true}}, Data: []byte("s")}}))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStable(t, b, AppendMessage, UnmarshalMessage) })
}

func FuzzUnmarshalEntry(f *testing.F) {
	f.Add(AppendEntry(nil, Entry{Type: EntryConfChange, Term: 1, Index: 1 << 40, Data: []byte("cc")}))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStable(t, b, AppendEntry, UnmarshalEntry) })
}

func FuzzUnmarshalHardState(f *testing.F) {
	f.Add(AppendHardState(nil, HardState{Term: 3, Vote: 1, Commit: 1 << 33}))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStable(t, b, AppendHardState, UnmarshalHardState) })
}

func FuzzUnmarshalSnapshot(f *testing.F) {
	f.Add(AppendSnapshot(nil, Snapshot{Metadata: SnapshotMetadata{Index: 4, Term: 1,
		ConfState: ConfState{Voters: []uint64{1}, Learners: []uint64{4}, LearnersNext: []uint64{2}}}}))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStable(t, b, AppendSnapshot, UnmarshalSnapshot) })
}

// benchMsgApp is an append message carrying n entries of size bytes each.
func benchMsgApp(n, size int) Message {
	m := Message{Type: MsgApp, From: 1, To: 2, Term: 7, LogTerm: 7, Index: 1000, Commit: 999}
	m.Entries = make([]Entry, n)
	for i := range m.Entries {
		m.Entries[i] = Entry{Type: EntryNormal, Term: 7, Index: 1001 + uint64(i), Data: bytes.Repeat([]byte{'v'}, size)}
	}
	return m
}

// BenchmarkMessageCodec measures an MsgApp of 64 entries of 256 bytes.
func BenchmarkMessageCodec(b *testing.B) {
	m := benchMsgApp(64, 256)
	enc := AppendMessage(nil, m)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		buf := make([]byte, 0, len(enc))
		for b.Loop() {
			buf = AppendMessage(buf[:0], m)
		}
	})
	b.Run("encode-fresh", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			_ = AppendMessage(nil, m)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := UnmarshalMessage(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
