package resp

// splitInline splits an inline command line into arguments as Redis's
// sdssplitargs does, so that what redis-cli and telnet users type means
// the same here:
//   - arguments are separated by runs of spaces, tabs, CR, LF, VT or FF;
//   - "double quotes" take the escapes \n \r \t \b \a \\ \" and \xHH,
//     any other escaped byte standing for itself;
//   - 'single quotes' take only \' as an escape;
//   - a quote may open in the middle of an argument (foo"bar baz" is one
//     argument, foobar baz), but a closing quote must be followed by a
//     separator or the end of the line;
//   - an unterminated quote, or a closing quote followed by another
//     byte, makes the line invalid (ok is false).
//
// One difference: Redis works on a C string, so a NUL byte ends its line;
// here NUL is an ordinary byte.
//
// The unescaped arguments are written over the line itself (an argument
// never grows when unescaped, and each starts no earlier than its source
// does), and appended to spans as offsets into line.
func splitInline(line []byte, spans []span) (_ []span, ok bool) {
	n := len(line)
	p := 0
	for {
		for p < n && isSpace(line[p]) {
			p++
		}
		if p == n {
			return spans, true
		}
		lo, out := p, p // out is where the next unescaped byte goes
		inDouble, inSingle := false, false
	token:
		for {
			switch {
			case inDouble:
				switch {
				case p == n:
					return spans, false
				case line[p] == '\\' && p+3 < n && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					line[out] = hexVal(line[p+2])<<4 | hexVal(line[p+3])
					out++
					p += 3
				case line[p] == '\\' && p+1 < n:
					p++
					line[out] = unescape(line[p])
					out++
				case line[p] == '"':
					if p+1 < n && !isSpace(line[p+1]) {
						return spans, false
					}
					p++
					break token
				default:
					line[out] = line[p]
					out++
				}
			case inSingle:
				switch {
				case p == n:
					return spans, false
				case line[p] == '\\' && p+1 < n && line[p+1] == '\'':
					p++
					line[out] = '\''
					out++
				case line[p] == '\'':
					if p+1 < n && !isSpace(line[p+1]) {
						return spans, false
					}
					p++
					break token
				default:
					line[out] = line[p]
					out++
				}
			default:
				if p == n {
					break token
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t':
					p++
					break token
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					line[out] = c
					out++
				}
			}
			p++
		}
		spans = append(spans, span{lo, out})
	}
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	default:
		return c
	}
}
