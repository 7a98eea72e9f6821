package greet

import "testing"

func TestHello(t *testing.T) {
	if got := Hello("  ana "); got != "hello, ana; this build came through cachegate" {
		t.Fatalf("Hello = %q", got)
	}
}
