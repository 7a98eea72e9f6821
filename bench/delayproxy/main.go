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
// Usage: delayproxy -listen 127.0.0.1:0 -port-file FILE -upstream HOST:PORT -delay 5ms
package main

import (
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type chunk struct {
	buf *[]byte // from bufs; its first n bytes are the data
	n   int
	due time.Time
}

// chunkSize is the most one read takes. Reads are big and their buffers
// reused, so that relaying costs this machine little CPU: the relay stands
// for a network, which costs the client and server nothing.
const chunkSize = 256 << 10

// queueLen chunks may be in flight each way: 256 MiB at most (each holds a
// whole buffer, however little it read), far more than a bandwidth-delay
// product on loopback at a few milliseconds.
const queueLen = 1024

var bufs = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	portFile := flag.String("port-file", "", "write the port in use to this file once listening")
	upstream := flag.String("upstream", "", "HOST:PORT to relay to (required)")
	delay := flag.Duration("delay", 0, "one-way delay added to every chunk, both ways")
	handshake := flag.Bool("handshake", true, "hold a new connection's client data one round trip (2*delay) after accept")
	flag.Parse()
	if *upstream == "" || flag.NArg() != 0 || *delay < 0 {
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("delayproxy: %v", err)
	}
	if *portFile != "" {
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(port+"\n"), 0o644); err != nil {
			log.Fatalf("delayproxy: %v", err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatalf("delayproxy: %v", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; ln.Close(); os.Exit(0) }()
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
		if *handshake {
			hold = hold.Add(2 * *delay)
		}
		go relay(c.(*net.TCPConn), *upstream, *delay, hold)
	}
}

// relay joins one client to a new upstream connection until both directions end.
func relay(client *net.TCPConn, upstream string, delay time.Duration, hold time.Time) {
	defer client.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		log.Printf("delayproxy: dial %s: %v", upstream, err)
		client.SetLinger(0) // the client sees a reset, as it would from a dead server
		return
	}
	server := u.(*net.TCPConn)
	defer server.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(server, client, delay, hold) }()
	go func() { defer wg.Done(); pipe(client, server, delay, time.Time{}) }()
	wg.Wait()
}

// pipe delivers what src sends to dst, each chunk delay after it was read
// (and never before hold).
func pipe(dst, src *net.TCPConn, delay time.Duration, hold time.Time) {
	q := make(chan chunk, queueLen)
	var rerr error
	var end time.Time // when the EOF or error is due at dst
	go func() {
		defer close(q)
		for {
			buf := bufs.Get().(*[]byte)
			n, err := src.Read(*buf)
			now := time.Now()
			if now.Before(hold) {
				now = hold
			}
			if n > 0 {
				q <- chunk{buf, n, now.Add(delay)}
			} else {
				bufs.Put(buf)
			}
			if err != nil {
				rerr, end = err, now.Add(delay)
				return
			}
		}
	}()
	var werr error
	for c := range q {
		if werr != nil {
			bufs.Put(c.buf)
			continue // drain, so the reader never blocks on a dead writer
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, werr = dst.Write((*c.buf)[:c.n]); werr != nil {
			src.Close() // the reader stops; the other direction sees it too
			dst.Close()
		}
		bufs.Put(c.buf)
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
