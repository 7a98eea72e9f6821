package main

import (
	"testing"
	"time"
)

// Two senders that always have data share one link, driven by a clock of
// the test's own: together they get the link's rate (not each), half each,
// and neither is read from faster than the link drains plus its queue.
func TestLinkSharedBySenders(t *testing.T) {
	const bitsPerSec = 100e6
	l := newLink(bitsPerSec, 5*time.Millisecond)
	t0 := time.Unix(1000, 0)
	horizon := t0.Add(time.Second)
	var next [2]time.Time // when each sender reads next
	var accepted, sent [2]int
	next[0], next[1] = t0, t0
	for {
		i := 0
		if next[1].Before(next[0]) {
			i = 1
		}
		now := next[i]
		if !now.Before(horizon) {
			break
		}
		done, hold := l.send(l.grain, now)
		if queued := done.Sub(now.Add(hold)); queued > l.queue {
			t.Fatalf("at %v: %v queued on the link when the sender may read again, more than the queue (%v)",
				now.Sub(t0), queued, l.queue)
		}
		accepted[i] += l.grain
		if !done.After(horizon) {
			sent[i] += l.grain
		}
		next[i] = now.Add(hold)
	}
	rate := bitsPerSec / 8 // bytes a second
	total := float64(sent[0] + sent[1])
	if total > rate || total < rate-float64(2*l.grain) {
		t.Errorf("the link sent %.0f bytes in 1 s, want about its rate, %.0f", total, rate)
	}
	for i := range sent {
		if share := float64(sent[i]) / total; share < 0.45 || share > 0.55 {
			t.Errorf("sender %d had %.2f of the link, want about half", i, share)
		}
	}
	queue := rate * l.queue.Seconds()
	if in := float64(accepted[0] + accepted[1]); in > rate+queue+float64(2*l.grain) {
		t.Errorf("%.0f bytes were taken from the senders in 1 s, more than the link sends (%.0f) and queues (%.0f)",
			in, rate, queue)
	}
}

// A chunk given to an idle link leaves it after its size over the rate, and
// the sender may go on at once while the queue has room.
func TestLinkIdle(t *testing.T) {
	l := newLink(8e6, 5*time.Millisecond) // 1 MB/s: a byte takes 1 µs
	now := time.Unix(1000, 0)
	done, hold := l.send(1000, now)
	if got := done.Sub(now); got != time.Millisecond || hold != 0 {
		t.Errorf("1000 bytes on an idle link: done after %v, hold %v; want 1ms, 0", got, hold)
	}
	done, hold = l.send(6000, now)
	if got := done.Sub(now); got != 7*time.Millisecond || hold != 2*time.Millisecond {
		t.Errorf("6000 bytes more: done after %v, hold %v; want 7ms, 2ms", got, hold)
	}
	later := now.Add(time.Second)
	if done, hold = l.send(1000, later); done.Sub(later) != time.Millisecond || hold != 0 {
		t.Errorf("after the link went idle: done after %v, hold %v; want 1ms, 0", done.Sub(later), hold)
	}
}

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"0", 0}, {"100mbit", 100e6}, {"1gbit", 1e9}, {"1.5Gbit", 1.5e9}, {"64kbit", 64e3}, {"8000", 8000}, {"9000bit", 9000}} {
		if got, err := parseRate(c.in); err != nil || got != c.want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "mbit", "-1mbit", "100mb", "1kbit", "nan", "inf", "1e9gbit"} {
		if got, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) = %v, want an error", in, got)
		}
	}
}
