package main

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// payloadSize bytes are what the test upstream sends each connection.
const payloadSize = 256 << 10

func payload() []byte {
	b := make([]byte, payloadSize)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	return b
}

// startUpstream serves on loopback: each connection sends "hello" and is
// answered with payload() and an EOF. Stopped at the test's end.
func startUpstream(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				hello := make([]byte, 5)
				if _, err := io.ReadFull(c, hello); err != nil || string(hello) != "hello" {
					return
				}
				c.Write(payload())
			}()
		}
	}()
	return ln.Addr().String()
}

// startProxy runs p on loopback until the test's end and returns its address.
func startProxy(t *testing.T, p *proxy) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go p.serve(ln)
	return ln.Addr().String()
}

// fetchAll makes conns connections through addr at once, each sending hello
// and reading to the end, and checks that each got the payload whole.
func fetchAll(t *testing.T, addr string, conns int) {
	want := payload()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Error(err)
				return
			}
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("got %d bytes (%v), want the %d of the payload", len(got), err, len(want))
			}
		}()
	}
	wg.Wait()
}

// waitStats waits until p has relayed up and down bytes (the last chunks may
// still be on their way when the clients have read everything) and checks
// its stats line.
func waitStats(t *testing.T, p *proxy, up, down int64) {
	for i := 0; i < 100 && (p.sentUp.Load() != up || p.sentDown.Load() != down); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if p.sentUp.Load() != up || p.sentDown.Load() != down {
		t.Errorf("relayed up %d, down %d bytes; want %d, %d", p.sentUp.Load(), p.sentDown.Load(), up, down)
	}
}

func TestRelayCounts(t *testing.T) {
	p := &proxy{upstream: startUpstream(t), delay: time.Millisecond, handshake: true}
	fetchAll(t, startProxy(t, p), 3)
	waitStats(t, p, 3*5, 3*payloadSize)
	if got, want := p.stats(), "up 15\ndown 786432\n"; got != want {
		t.Errorf("stats %q, want %q", got, want)
	}
}

// Two connections through a link of 1 MB/s together take at least their
// bytes over that rate: the link is shared, not one per connection (which
// would take half that). Only this lower bound is asserted (less a
// millisecond for the link's rounding to nanoseconds): a busy machine can
// make the relay slower, never faster.
func TestRelaySharesTheLink(t *testing.T) {
	const bitsPerSec = 8e6
	p := &proxy{upstream: startUpstream(t), up: newLink(bitsPerSec, 5*time.Millisecond),
		down: newLink(bitsPerSec, 5*time.Millisecond)}
	addr := startProxy(t, p)
	start := time.Now()
	fetchAll(t, addr, 2)
	took := time.Since(start)
	least := time.Duration(2*payloadSize*8/bitsPerSec*float64(time.Second)) - time.Millisecond
	if took < least {
		t.Errorf("two connections got %d bytes each in %v through a link of 1 MB/s, faster than its rate (%v)",
			payloadSize, took, least)
	}
	waitStats(t, p, 2*5, 2*payloadSize)
}
