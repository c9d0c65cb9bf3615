package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// TestRepliesMatchRealRedis sends the same commands to Debian's
// redis-server and to a one-node eventual tier and compares every reply
// (its type and value, or its error text): single-node semantics must be
// Redis's for every supported command. Replies whose order Redis leaves
// unspecified (set members, hash fields, key lists) are sorted first.
func TestRepliesMatchRealRedis(t *testing.T) {
	ours := startNode(t)
	real := redis.NewClient(&redis.Options{Addr: testutil.StartRedisServer(t)})
	defer real.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unordered := map[string]bool{"SMEMBERS": true, "HGETALL": true, "HKEYS": true, "HVALS": true, "KEYS": true}
	script := [][]any{
		{"SET", "s", "hello"}, {"GET", "s"}, {"GET", "nope"}, {"SET", "s", "x", "GET"}, {"SET", "s"},
		{"SET", "s", "v", "EX", "0"}, {"SET", "s", "v", "EX", "abc"}, {"SET", "s", "v", "FOO"},
		{"STRLEN", "s"}, {"STRLEN", "nope"}, {"APPEND", "s", "-more"}, {"GET", "s"}, {"APPEND", "new", "abc"},
		{"GETSET", "s", "g"}, {"GETDEL", "s"}, {"GETDEL", "s"}, {"EXISTS", "s", "new", "nope"},
		{"MSET", "a", "1", "b", "2"}, {"MGET", "a", "b", "zz"}, {"MSET", "a"},
		{"INCR", "ctr"}, {"INCRBY", "ctr", "41"}, {"DECR", "ctr"}, {"DECRBY", "ctr", "10"}, {"GET", "ctr"},
		{"INCRBY", "ctr", "x"}, {"INCR", "new"}, {"SET", "big", "9223372036854775807"}, {"INCR", "big"},
		{"SET", "n", "10"}, {"INCR", "n"}, {"TYPE", "n"}, {"TYPE", "ctr"}, {"TYPE", "nope"},
		{"SADD", "set", "a", "b", "a"}, {"SADD", "set", "c"}, {"SCARD", "set"}, {"SISMEMBER", "set", "a"},
		{"SISMEMBER", "set", "z"}, {"SMISMEMBER", "set", "a", "z"}, {"SMEMBERS", "set"}, {"SREM", "set", "a", "z"},
		{"SMEMBERS", "set"}, {"TYPE", "set"}, {"GET", "set"}, {"INCR", "set"}, {"SADD", "s2"},
		{"SREM", "set", "b", "c"}, {"EXISTS", "set"}, {"SCARD", "set"},
		{"HSET", "h", "f1", "v1", "f2", "v2"}, {"HSET", "h", "f1", "v3"}, {"HGET", "h", "f1"}, {"HGET", "h", "zz"},
		{"HMGET", "h", "f1", "zz", "f2"}, {"HGETALL", "h"}, {"HKEYS", "h"}, {"HVALS", "h"}, {"HLEN", "h"},
		{"HEXISTS", "h", "f2"}, {"HEXISTS", "h", "zz"}, {"HDEL", "h", "f1", "zz"}, {"HMSET", "h", "f3", "v"},
		{"HSET", "h", "odd"}, {"SADD", "h", "x"}, {"HGETALL", "nope"}, {"HDEL", "h", "f2", "f3"}, {"EXISTS", "h"},
		{"SET", "t", "v"}, {"TTL", "t"}, {"PTTL", "nope"}, {"EXPIRE", "t", "100"}, {"PERSIST", "t"}, {"TTL", "t"},
		{"PERSIST", "t"}, {"EXPIRE", "nope", "10"}, {"EXPIRE", "t", "-1"}, {"EXISTS", "t"},
		{"SET", "t2", "v", "PX", "100000"}, {"PERSIST", "t2"}, {"TTL", "t2"}, {"SET", "t3", "v", "KEEPTTL"},
		{"SETNX", "nx", "1"}, {"SETNX", "nx", "2"}, {"GET", "nx"}, {"SET", "nx", "3", "NX"}, {"SET", "nx", "4", "XX"},
		{"SET", "nx2", "5", "XX"}, {"SET", "nx", "6", "XX", "GET"}, {"SET", "nx", "7", "NX", "XX"}, {"GET", "nx"},
		{"SET", "l", "v", "NX", "EX", "100"}, {"SET", "l", "w", "NX", "PX", "100000"}, {"SET", "l", "w", "XX", "KEEPTTL", "GET"},
		{"SET", "l", "w", "NX", "EX", "0"}, {"SET", "l", "w", "XX", "EX", "10", "KEEPTTL"},
		{"DEL", "a", "b", "nope"}, {"UNLINK", "ctr"}, {"KEYS", "*"}, {"DBSIZE"},
		{"GET"}, {"SADD", "x"}, {"NOSUCHCOMMAND", "a"}, {"PING"}, {"ECHO", "hi"},
	}
	for _, cmd := range script {
		got, gotErr := ours.Do(ctx, cmd...).Result()
		want, wantErr := real.Do(ctx, cmd...).Result()
		g, w := render(got, gotErr, unordered[fmt.Sprint(cmd[0])]), render(want, wantErr, unordered[fmt.Sprint(cmd[0])])
		if g != w {
			t.Errorf("%v:\n  cairn: %s\n  redis: %s", cmd, g, w)
		}
	}
}

// render prints a reply with its type, sorting lists and maps if asked.
func render(v any, err error, sortIt bool) string {
	if err == redis.Nil {
		return "nil"
	}
	if err != nil {
		return "error: " + err.Error()
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(e, nil, false)
		}
		if sortIt {
			sort.Strings(parts)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, render(k, nil, false)+"="+render(e, nil, false))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, " ") + "}"
	case nil:
		return "nil"
	default:
		return fmt.Sprintf("%T(%v)", v, v)
	}
}
