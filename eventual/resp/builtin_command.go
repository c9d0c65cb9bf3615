package resp

import (
	"path"
	"slices"
	"strings"
)

// commandCommand is COMMAND, which describes the commands the server knows:
// the connection commands and Config.Commands. redis-cli asks COMMAND DOCS
// at start for its hints; cluster-aware clients ask COMMAND for key
// positions and read-only flags.
func commandCommand() *Command {
	const flags = FlagLoading | FlagStale
	return container(&Command{Name: "command", Arity: -1, Flags: flags,
		Summary: "Returns detailed information about all commands.", Since: "2.8.13", Complexity: "O(N) where N is the total number of Redis commands"},
		cmdCommandAll,
		&Command{Name: "count", Arity: 2, Flags: flags, builtin: cmdCommandCount,
			Summary: "Returns a count of commands.", Since: "2.8.13", Complexity: "O(1)"},
		&Command{Name: "info", Arity: -2, Flags: flags, builtin: cmdCommandInfo,
			Summary: "Returns information about one, multiple or all commands.", Since: "2.8.13", Complexity: "O(N) where N is the number of commands to look up"},
		&Command{Name: "docs", Arity: -2, Flags: flags, builtin: cmdCommandDocs,
			Summary: "Returns documentary information about one, multiple or all commands.", Since: "7.0.0", Complexity: "O(N) where N is the number of commands to look up"},
		&Command{Name: "list", Arity: -2, Flags: flags, builtin: cmdCommandList,
			Summary: "Returns a list of command names.", Since: "7.0.0", Complexity: "O(N) where N is the total number of Redis commands"},
		&Command{Name: "help", Arity: 2, Flags: flags, builtin: cmdCommandHelp,
			Summary: "Returns helpful text about the different subcommands.", Since: "5.0.0", Complexity: "O(1)"},
	)
}

func cmdCommandAll(s *Server, c *Conn, _ [][]byte) {
	c.wr.ArrayLen(len(s.visible))
	for _, cmd := range s.visible {
		writeCommandInfo(c.wr, cmd)
	}
}

func cmdCommandCount(s *Server, c *Conn, _ [][]byte) { c.wr.Integer(int64(len(s.visible))) }

// cmdCommandInfo: COMMAND INFO [name ...]; a name the server does not know
// gets a null, as in Redis.
func cmdCommandInfo(s *Server, c *Conn, args [][]byte) {
	if len(args) == 2 {
		cmdCommandAll(s, c, args)
		return
	}
	c.wr.ArrayLen(len(args) - 2)
	for _, name := range args[2:] {
		if cmd := s.visibleCommand(name); cmd != nil {
			writeCommandInfo(c.wr, cmd)
		} else {
			c.wr.Null()
		}
	}
}

// cmdCommandDocs: COMMAND DOCS [name ...], a map from name to doc; names
// the server does not know are left out, as in Redis.
func cmdCommandDocs(s *Server, c *Conn, args [][]byte) {
	cmds := s.visible
	if len(args) > 2 {
		cmds = nil
		for _, name := range args[2:] {
			if cmd := s.visibleCommand(name); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.wr.MapLen(len(cmds))
	for _, cmd := range cmds {
		c.wr.BulkString(cmd.Name)
		writeCommandDoc(c.wr, cmd)
	}
}

// cmdCommandList: COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern]. No command belongs to a module.
func cmdCommandList(s *Server, c *Conn, args [][]byte) {
	var keep func(*Command) bool
	switch {
	case len(args) == 2:
		keep = func(*Command) bool { return true }
	case len(args) == 5 && equalFold(args[2], "filterby"):
		arg := string(args[4])
		switch {
		case equalFold(args[3], "module"):
			keep = func(*Command) bool { return false }
		case equalFold(args[3], "aclcat"):
			keep = func(cmd *Command) bool { return slices.Contains(categories(cmd), "@"+strings.ToLower(arg)) }
		case equalFold(args[3], "pattern"):
			pattern := strings.ToLower(arg)
			keep = func(cmd *Command) bool { ok, _ := path.Match(pattern, cmd.Name); return ok }
		}
	}
	if keep == nil {
		c.wr.Error(MsgSyntax)
		return
	}
	var names []string
	for _, cmd := range s.visible {
		if keep(cmd) {
			names = append(names, cmd.Name)
		}
	}
	c.wr.ArrayLen(len(names))
	for _, n := range names {
		c.wr.BulkString(n)
	}
}

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all commands.",
	"COUNT",
	"    Return the total number of commands in this server.",
	"LIST",
	"    Return a list of all commands in this server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"HELP",
	"    Print this help.",
}

func cmdCommandHelp(_ *Server, c *Conn, _ [][]byte) { writeHelp(c.wr, commandHelp) }

// visibleCommand returns the command COMMAND describes under name.
func (s *Server) visibleCommand(name []byte) *Command {
	if cmd := s.lookup(name); cmd != nil && !cmd.hidden {
		return cmd
	}
	return nil
}

// writeCommandInfo writes Redis 7's ten-element description of cmd: name,
// arity, flags, first key, last key, key step, ACL categories, tips, key
// specifications, subcommands.
func writeCommandInfo(w *Writer, cmd *Command) {
	w.ArrayLen(10)
	w.BulkString(cmd.nameFull)
	w.Integer(int64(cmd.Arity))
	flags := cmd.Flags.Names()
	w.SetLen(len(flags))
	for _, f := range flags {
		w.SimpleString(f)
	}
	w.Integer(int64(cmd.FirstKey))
	w.Integer(int64(cmd.LastKey))
	w.Integer(int64(cmd.KeyStep))
	cats := categories(cmd)
	w.SetLen(len(cats))
	for _, cat := range cats {
		w.SimpleString(cat)
	}
	w.SetLen(0) // tips
	writeKeySpecs(w, cmd)
	subs := sortedSubs(cmd)
	w.ArrayLen(len(subs))
	for _, sub := range subs {
		writeCommandInfo(w, sub)
	}
}

// writeKeySpecs writes cmd's key positions as one Redis 7 key
// specification: keys from index FirstKey to LastKey by KeyStep.
func writeKeySpecs(w *Writer, cmd *Command) {
	if cmd.FirstKey == 0 {
		w.ArrayLen(0)
		return
	}
	w.ArrayLen(1)
	w.MapLen(3)
	w.BulkString("flags")
	if cmd.Flags&FlagWrite != 0 {
		w.SetLen(2)
		w.SimpleString("RW")
		w.SimpleString("update")
	} else {
		w.SetLen(2)
		w.SimpleString("RO")
		w.SimpleString("access")
	}
	w.BulkString("begin_search")
	w.MapLen(2)
	w.BulkString("type")
	w.BulkString("index")
	w.BulkString("spec")
	w.MapLen(1)
	w.BulkString("index")
	w.Integer(int64(cmd.FirstKey))
	w.BulkString("find_keys")
	w.MapLen(2)
	w.BulkString("type")
	w.BulkString("range")
	w.BulkString("spec")
	w.MapLen(3)
	w.BulkString("lastkey")
	last := cmd.LastKey // relative to the first key, or negative from the end
	if last >= 0 {
		last -= cmd.FirstKey
	}
	w.Integer(int64(last))
	w.BulkString("keystep")
	w.Integer(int64(cmd.KeyStep))
	w.BulkString("limit")
	w.Integer(0)
}

// writeCommandDoc writes the map COMMAND DOCS gives for cmd: its
// non-empty documentation fields, and its subcommands' docs.
func writeCommandDoc(w *Writer, cmd *Command) {
	fields := [][2]string{{"summary", cmd.Summary}, {"since", cmd.Since}, {"group", cmd.Group}, {"complexity", cmd.Complexity}}
	n := 0
	for _, f := range fields {
		if f[1] != "" {
			n++
		}
	}
	subs := sortedSubs(cmd)
	if len(subs) > 0 {
		n++
	}
	w.MapLen(n)
	for _, f := range fields {
		if f[1] != "" {
			w.BulkString(f[0])
			w.BulkString(f[1])
		}
	}
	if len(subs) > 0 {
		w.BulkString("subcommands")
		w.MapLen(len(subs))
		for _, sub := range subs {
			w.BulkString(sub.nameFull)
			writeCommandDoc(w, sub)
		}
	}
}

func sortedSubs(cmd *Command) []*Command {
	if len(cmd.subs) == 0 {
		return nil
	}
	subs := make([]*Command, 0, len(cmd.subs))
	for _, sub := range cmd.subs {
		subs = append(subs, sub)
	}
	slices.SortFunc(subs, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	return subs
}

// categories returns cmd's ACL categories, derived from its flags and
// group in Redis's order ("@read @string @fast").
func categories(cmd *Command) []string {
	var cats []string
	if cmd.Flags&FlagWrite != 0 {
		cats = append(cats, "@write")
	}
	if cmd.Flags&FlagReadOnly != 0 {
		cats = append(cats, "@read")
	}
	if cmd.Flags&FlagAdmin != 0 {
		cats = append(cats, "@admin", "@dangerous")
	}
	if cmd.Flags&FlagPubSub != 0 {
		cats = append(cats, "@pubsub")
	}
	if cmd.Group != "" {
		cats = append(cats, "@"+cmd.Group)
	}
	if cmd.Flags&FlagBlocking != 0 {
		cats = append(cats, "@blocking")
	}
	if cmd.Flags&FlagFast != 0 {
		cats = append(cats, "@fast")
	} else {
		cats = append(cats, "@slow")
	}
	return cats
}
