package resp

import (
	"slices"
	"testing"
)

// The cases follow Redis's sdssplitargs (sds.c) and its tests; the ones
// marked redis were checked against redis-server 7.0 (oracle_test.go
// sends some of them to a live server).
func TestSplitInline(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil: invalid
	}{
		{"a b c", []string{"a", "b", "c"}},
		{"  a \t  b  ", []string{"a", "b"}},
		{"", []string{}},
		{" \t\r\n\v\f", []string{}},
		{"\va", []string{"a"}},     // leading VT is a separator...
		{"a\vb", []string{"a\vb"}}, // ...but not inside an argument
		{"a\tb\rc\nd", []string{"a", "b", "c", "d"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`"\x41\x4a" x`, []string{"AJ", "x"}},               // redis
		{`"\x4g"`, []string{"x4g"}},                         // not a hex escape: \x is x
		{`"\x4"`, []string{"x4"}},                           // too short for a hex escape
		{`"\n\r\t\b\a\\\"\q"`, []string{"\n\r\t\b\a\\\"q"}}, // \q is q
		{`'it\'s'`, []string{"it's"}},
		{`'a\nb'`, []string{`a\nb`}}, // no escapes in single quotes
		{`'a"b'`, []string{`a"b`}},
		{`"a'b"`, []string{`a'b`}},
		{`foo"bar baz"`, []string{"foobar baz"}}, // a quote may open mid-argument
		{`foo'bar baz'`, []string{"foobar baz"}},
		{`""`, []string{""}},
		{`"" ''`, []string{"", ""}},
		{"\"a\"\t\"b\"", []string{"a", "b"}},
		{"\"a\"\v", []string{"a"}}, // a closing quote may be followed by any space
		{"a\x00b", []string{"a\x00b"}},
		{`"a"b`, nil}, // redis
		{`'a'b`, nil},
		{`"abc`, nil}, // redis
		{`'abc`, nil},
		{`"a\"`, nil}, // the escaped quote does not close
		{`"\`, nil},
		{`'\'`, nil},
		{`a "b`, nil},
	} {
		line := []byte(tc.in)
		spans, ok := splitInline(line, nil)
		if tc.want == nil {
			if ok {
				t.Errorf("splitInline(%q) accepted, want unbalanced", tc.in)
			}
			continue
		}
		if !ok {
			t.Errorf("splitInline(%q) rejected, want %q", tc.in, tc.want)
			continue
		}
		got := []string{}
		for _, s := range spans {
			got = append(got, string(line[s.lo:s.hi]))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitInline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
