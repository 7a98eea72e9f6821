// delayproxy: a TCP relay that adds latency and nothing else, to benchmark a
// remote cache as if it were across a network on a kernel without netem.
//
// For every accepted connection it dials the upstream and relays both ways.
// Every chunk read from one side is written to the other `delay` after it was
// read (one-way delay; a round trip costs 2*delay). Chunks are pipelined, so
// bandwidth is kept: a reader goroutine stamps chunks into a queue, a writer
// goroutine sleeps until each one is due. Data the client sends on a new
// connection is also held until one round trip after the accept, as if the
// TCP handshake had crossed the network (-handshake=false turns that off).
// An EOF is passed on (CloseWrite) with the same delay, after the chunks
// before it; a reset or error is passed on as a reset. SIGTERM or SIGINT: exit 0.
//
// With -rate, each direction is one link of that rate, shared by every
// connection (link.go): a chunk is due delay after its last byte has left
// the link, and a sender is read from only as fast as the link drains (plus
// a queue of -queue of the link's time), as TCP would be held behind a slow
// link. Reads then take about half a millisecond of the link each.
// With -stats FILE, the bytes relayed each way so far are written to FILE
// (replaced whole) on SIGUSR1 and at exit, as "up N" (client to upstream)
// and "down N" (upstream to client) lines.
//
// The relay runs on the machine it measures and stands for a network, which
// costs the client and server no CPU; so on Linux it relays without copying:
// the reader splice(2)s what the socket has into a kernel pipe of its own
// (one per chunk in flight, from a pool), the writer splices that pipe into
// the other socket when the chunk is due. The bytes never enter this process,
// which saves the two copies (what CPU is left is mostly the kernel's TCP
// work on the relay's own sockets).
// Where splice is refused (or no pipe can be had), chunks are read into a
// buffer and written, as before.
//
// Usage:
//
//	delayproxy -listen 127.0.0.1:0 -port-file FILE -upstream HOST:PORT -delay 5ms \
//		[-rate 100mbit [-queue 5ms]] [-stats FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A chunk is what one read took from the source: n bytes, either in a kernel
// pipe (p, spliced) or in a buffer (buf, copied), due at dst at time due.
type chunk struct {
	p   *kpipe
	buf *[]byte // from bufs; its first n bytes are the data
	n   int
	due time.Time
}

// chunkSize is the most one read into a buffer takes (when not splicing).
// Reads are big and their buffers reused, to keep that path's CPU cost low.
const chunkSize = 256 << 10

// queueLen chunks may wait each way, so at most queueLen+2 are in flight (one
// being read, one being written): each holds at most pipeSize (1 MiB) in a
// pipe or chunkSize in a buffer, so 258 MiB and 516 pipes (1032 fds) at most,
// far more than a bandwidth-delay product on loopback at a few milliseconds.
// A full queue holds the reader back, so data waits in the socket (as behind
// a slow link) and the next chunk takes more of it.
const queueLen = 256

var bufs = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// errNoSplice: this kernel or socket cannot splice; copy instead.
var errNoSplice = errors.New("splice not supported")

// A proxy relays each connection it accepts to a new one to upstream.
type proxy struct {
	upstream         string
	delay            time.Duration
	handshake        bool
	up, down         *link        // client to upstream and back; nil: no rate
	sentUp, sentDown atomic.Int64 // bytes relayed each way so far
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	portFile := flag.String("port-file", "", "write the port in use to this file once listening")
	upstream := flag.String("upstream", "", "HOST:PORT to relay to (required)")
	delay := flag.Duration("delay", 0, "one-way delay added to every chunk, both ways")
	handshake := flag.Bool("handshake", true, "hold a new connection's client data one round trip (2*delay) after accept")
	rate := flag.String("rate", "0", "each direction is one link of this rate shared by all connections, e.g. 100mbit, 1gbit (0: no limit)")
	queue := flag.Duration("queue", 5*time.Millisecond, "with -rate: how much of the link's time may wait queued each way before senders are held back")
	stats := flag.String("stats", "", "write the bytes relayed each way to this file on SIGUSR1 and at exit")
	flag.Parse()
	bps, err := parseRate(*rate)
	if *upstream == "" || flag.NArg() != 0 || *delay < 0 || *queue < 0 || err != nil {
		if err != nil {
			log.Printf("delayproxy: %v", err)
		}
		flag.Usage()
		os.Exit(2)
	}
	p := &proxy{upstream: *upstream, delay: *delay, handshake: *handshake}
	if bps > 0 {
		p.up, p.down = newLink(bps, *queue), newLink(bps, *queue)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("delayproxy: %v", err)
	}
	if *portFile != "" {
		if err := writeFile(*portFile, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+"\n"); err != nil {
			log.Fatalf("delayproxy: %v", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	go func() {
		for s := range sig {
			if *stats != "" {
				if err := writeFile(*stats, p.stats()); err != nil {
					log.Printf("delayproxy: %v", err)
				}
			}
			if s != syscall.SIGUSR1 {
				ln.Close()
				os.Exit(0)
			}
		}
	}()
	p.serve(ln)
}

// writeFile replaces file with text whole (through a rename), so a reader
// never sees part of it.
func writeFile(file, text string) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// stats tells the bytes relayed each way so far.
func (p *proxy) stats() string {
	return fmt.Sprintf("up %d\ndown %d\n", p.sentUp.Load(), p.sentDown.Load())
}

// serve relays every connection ln accepts until ln is closed.
func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("delayproxy: accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		hold := time.Now()
		if p.handshake {
			hold = hold.Add(2 * p.delay)
		}
		go p.relay(c.(*net.TCPConn), hold)
	}
}

// relay joins one client to a new upstream connection until both directions end.
func (p *proxy) relay(client *net.TCPConn, hold time.Time) {
	defer client.Close()
	u, err := net.Dial("tcp", p.upstream)
	if err != nil {
		log.Printf("delayproxy: dial %s: %v", p.upstream, err)
		client.SetLinger(0) // the client sees a reset, as it would from a dead server
		return
	}
	server := u.(*net.TCPConn)
	defer server.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.oneWay(server, client, p.up, &p.sentUp, hold) }()
	go func() { defer wg.Done(); p.oneWay(client, server, p.down, &p.sentDown, time.Time{}) }()
	wg.Wait()
}

// oneWay delivers what src sends to dst, each chunk delay after it was read
// (and never before hold), or with a link, delay after it has left the link;
// it adds what it delivers to sent.
func (p *proxy) oneWay(dst, src *net.TCPConn, l *link, sent *atomic.Int64, hold time.Time) {
	q := make(chan chunk, queueLen)
	var rerr error
	var end time.Time // when the EOF or error is due at dst
	limit := chunkSize
	if l != nil {
		limit = l.grain
	}
	go func() {
		defer close(q)
		for {
			c, err := readChunk(src, limit)
			now := time.Now()
			var wait time.Duration
			if c.n > 0 {
				c.due = now
				if l != nil {
					c.due, wait = l.send(c.n, now)
				}
				c.due = latest(c.due, hold).Add(p.delay)
				q <- c
			} else {
				c.release(true)
			}
			if err != nil {
				rerr, end = err, latest(now, hold).Add(p.delay)
				return
			}
			time.Sleep(wait) // the link's queue is full: the sender waits
		}
	}()
	var werr error
	for c := range q {
		if werr != nil {
			c.release(false)
			continue // drain, so the reader never blocks on a dead writer
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if werr = c.writeTo(dst); werr != nil {
			src.Close() // the reader stops; the other direction sees it too
			dst.Close()
		} else {
			sent.Add(int64(c.n))
		}
		c.release(werr == nil)
	}
	if d := time.Until(end); werr == nil && d > 0 {
		time.Sleep(d)
	}
	switch {
	case werr != nil:
	case errors.Is(rerr, io.EOF):
		dst.CloseWrite()
	default: // reset or error: pass it on as a reset
		dst.SetLinger(0)
		dst.Close()
		src.Close()
	}
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// readChunk waits for src and takes what it has, at most limit bytes:
// spliced into a pipe from the pool, or read into a buffer when there is no
// pipe or splice is refused. A chunk of 0 bytes with io.EOF is the end.
func readChunk(src *net.TCPConn, limit int) (chunk, error) {
	if p := getPipe(); p != nil {
		n, err := spliceIn(src, p, limit)
		if !errors.Is(err, errNoSplice) {
			return chunk{p: p, n: n}, err
		}
		putPipe(p, true)
	}
	buf := bufs.Get().(*[]byte)
	n, err := src.Read((*buf)[:min(limit, len(*buf))])
	return chunk{buf: buf, n: n}, err
}

// writeTo gives dst the chunk's bytes.
func (c chunk) writeTo(dst *net.TCPConn) error {
	if c.p != nil {
		return spliceOut(dst, c.p, c.n)
	}
	_, err := dst.Write((*c.buf)[:c.n])
	return err
}

// release returns the chunk's pipe or buffer; a pipe that may still hold
// data (sent is false) is closed rather than pooled.
func (c chunk) release(sent bool) {
	if c.p != nil {
		putPipe(c.p, sent)
	} else {
		bufs.Put(c.buf)
	}
}
