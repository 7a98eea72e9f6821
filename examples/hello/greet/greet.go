// Package greet builds greetings.
package greet

import "strings"

// Hello greets name, trimmed of surrounding space.
func Hello(name string) string {
	return "hello, " + strings.TrimSpace(name) + "; this build came through cachegate"
}
