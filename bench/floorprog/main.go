// floorprog: the least a GOCACHEPROG helper can do, to measure what the go
// command's own helper protocol costs. It loads an index of cache entries
// into memory at start ("<action hex> <output hex> <size> <file>" lines) and
// answers every get from it, with no file access and no network. It knows
// only get and close, so the go command sends it no puts.
//
// Usage (bench/gobuild.sh builds and runs it): GOCACHEPROG="floorprog INDEX"
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type request struct {
	ID       int64
	Command  string
	ActionID []byte
}

type response struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"`
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

type entry struct {
	output []byte
	size   int64
	path   string
}

// loadIndex reads the index file into a map keyed by action hex.
func loadIndex(name string) (map[string]entry, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	index := make(map[string]entry)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			continue
		}
		out, err1 := hex.DecodeString(f[1])
		size, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad index line %q", line)
		}
		index[f[0]] = entry{out, size, f[3]}
	}
	return index, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floorprog INDEX")
		os.Exit(2)
	}
	index, err := loadIndex(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorprog:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	send := func(r response) {
		enc.Encode(r)
		out.Flush()
	}
	send(response{KnownCommands: []string{"get", "close"}})
	dec := json.NewDecoder(bufio.NewReader(os.Stdin))
	now := time.Now()
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			return
		}
		switch req.Command {
		case "get":
			e, ok := index[hex.EncodeToString(req.ActionID)]
			if !ok {
				send(response{ID: req.ID, Miss: true})
				continue
			}
			send(response{ID: req.ID, OutputID: e.output, Size: e.size, Time: &now, DiskPath: e.path})
		case "close":
			send(response{ID: req.ID})
			return
		default:
			send(response{ID: req.ID, Err: "floorprog knows only get and close"})
		}
	}
}
