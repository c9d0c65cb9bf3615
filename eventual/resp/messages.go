package resp

import (
	"strings"
)

// Error replies in Redis's own words, for Writer.Error. Clients match on
// some of them (go-redis on the WRONGTYPE code, scripts on the text), so
// a handler should use these rather than its own phrasing.
const (
	MsgSyntax        = "ERR syntax error"
	MsgNotInteger    = "ERR value is not an integer or out of range"
	MsgNotFloat      = "ERR value is not a valid float"
	MsgOverflow      = "ERR increment or decrement would overflow"
	MsgWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	MsgNoSuchKey     = "ERR no such key"
	MsgNoAuth        = "NOAUTH Authentication required."
	MsgWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	MsgDBOutOfRange  = "ERR DB index is out of range"
	MsgMaxClients    = "ERR max number of clients reached"
	MsgInvalidCursor = "ERR invalid cursor"
)

// Bounds of the quoting in MsgUnknownCommand, as Redis's
// processCommand: the name to 128 bytes, the arguments while their quoted
// list is under 128 bytes.
const (
	unknownNameMax = 128
	unknownArgsMax = 128
)

// MsgUnknownCommand is Redis's reply to a command it does not know, args
// being the whole command, name first:
//
//	ERR unknown command 'foo', with args beginning with: 'a' 'b'
//
// (with a trailing space after each argument, as Redis writes it).
func MsgUnknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	if len(args) > 0 {
		b.Write(args[0][:min(len(args[0]), unknownNameMax)])
	}
	b.WriteString("', with args beginning with: ")
	quoted := 0
	for i := 1; i < len(args) && quoted < unknownArgsMax; i++ {
		a := args[i][:min(len(args[i]), unknownArgsMax-quoted)]
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		quoted += len(a) + 3
	}
	return b.String()
}

// MsgWrongArgs is Redis's reply to a command with the wrong number of
// arguments; name is the command's lower-case name ("get"), or
// "container|sub" for a subcommand ("client|setname"):
//
//	ERR wrong number of arguments for 'get' command
func MsgWrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// MsgUnknownSubcommand is Redis's reply to an unknown subcommand sub of
// the container command cmd:
//
//	ERR unknown subcommand 'foo'. Try CLIENT HELP.
func MsgUnknownSubcommand(cmd string, sub []byte) string {
	return "ERR unknown subcommand '" + string(sub[:min(len(sub), unknownNameMax)]) + "'. Try " + strings.ToUpper(cmd) + " HELP."
}

// ArityOK reports whether a command of Redis arity arity accepts argc
// arguments (the name included): exactly arity when positive, at least
// -arity when negative.
func ArityOK(arity, argc int) bool {
	if arity >= 0 {
		return argc == arity
	}
	return argc >= -arity
}
