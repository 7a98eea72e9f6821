//go:build !linux

// No splice(2) here: every chunk is read into a buffer and written.

package main

import "net"

type kpipe struct{}

func getPipe() *kpipe                                 { return nil }
func putPipe(*kpipe, bool)                            {}
func spliceIn(*net.TCPConn, *kpipe, int) (int, error) { return 0, errNoSplice }
func spliceOut(*net.TCPConn, *kpipe, int) error       { return errNoSplice }
