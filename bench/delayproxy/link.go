// A link of a given rate, shared by every connection relayed one way: chunks
// take turns on it in the order they were read, each occupying it for its
// size over the rate, and a reader may read again only once what is queued
// on the link fits its queue, so a slow link holds every sender back (their
// data waits in their sockets, as TCP would keep it behind a bottleneck).

package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A link serializes the chunks of all connections one way. Its methods take
// the time from the caller, so a test can drive it with a clock of its own.
type link struct {
	mu      sync.Mutex
	perByte float64       // nanoseconds one byte occupies the link
	queue   time.Duration // how much may wait on the link before readers are held
	grain   int           // the most one read takes (a packet, coarsely)
	free    time.Time     // when the link has sent everything given to it
}

// newLink returns a link of bitsPerSec that queues at most queue's worth of
// data; readers through it take about half a millisecond of the link at once
// (at least 8 KiB, at most chunkSize).
func newLink(bitsPerSec float64, queue time.Duration) *link {
	l := &link{perByte: 8e9 / bitsPerSec, queue: queue}
	l.grain = min(max(int(bitsPerSec/8/2000), 8<<10), chunkSize)
	return l
}

// send puts n bytes read at now on the link, after everything before them.
// It returns when their last byte has left the link, and how long the reader
// must wait before reading more (zero when the queue has room).
func (l *link) send(n int, now time.Time) (done time.Time, hold time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.free
	if start.Before(now) {
		start = now
	}
	l.free = start.Add(time.Duration(float64(n) * l.perByte))
	return l.free, max(l.free.Sub(now)-l.queue, 0)
}

// parseRate reads a rate in bits per second: a number with an optional unit
// bit, kbit, mbit or gbit (powers of 1000, as tc(8) counts), e.g. 100mbit.
// "0" means no limit.
func parseRate(s string) (float64, error) {
	num, scale := strings.ToLower(s), 1.0
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"bit", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, scale = strings.TrimSuffix(num, u.suffix), u.scale
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v == 0 || v*scale >= 8000 && v*scale <= 1e13) {
		return 0, fmt.Errorf("bad rate %q (e.g. 100mbit, 1gbit; at least 8kbit, 0 for none)", s)
	}
	return v * scale, nil
}
