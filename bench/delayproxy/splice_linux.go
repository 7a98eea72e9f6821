// Zero-copy relaying on Linux: each chunk in flight is held in a kernel pipe,
// filled by splice(2) from the source socket and drained by splice into the
// destination socket. The sockets stay in Go's netpoller (through their raw
// conns), so waiting for data or for room costs no thread.

package main

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

const (
	// pipeSize is the capacity asked for each pipe, so the most one chunk
	// takes (the default, 1 MiB, of /proc/sys/fs/pipe-max-size).
	pipeSize = 1 << 20
	// minPipeSize: a pipe the kernel will not make even this big (the user
	// is over /proc/sys/fs/pipe-user-pages-soft) is not used; its chunks
	// would be so small that copying them costs less.
	minPipeSize = 64 << 10
	// maxIdle pipes are kept for reuse, over all connections; more are closed.
	maxIdle = 32

	spliceMove     = 0x1 // SPLICE_F_MOVE
	spliceNonblock = 0x2 // SPLICE_F_NONBLOCK
)

// A kpipe holds one chunk between the splice that takes it from the source
// and the splices that give it to the destination.
type kpipe struct {
	r, w int // read and write ends, non-blocking
	size int // capacity in bytes
}

// pool holds the idle pipes, all of them empty.
var pool struct {
	sync.Mutex
	idle []*kpipe
}

// noSplice is set once the kernel refuses to splice: from then on every
// chunk is copied.
var noSplice atomic.Bool

// getPipe returns an empty pipe, or nil if there is none to be had.
func getPipe() *kpipe {
	if noSplice.Load() {
		return nil
	}
	pool.Lock()
	if n := len(pool.idle); n > 0 {
		p := pool.idle[n-1]
		pool.idle = pool.idle[:n-1]
		pool.Unlock()
		return p
	}
	pool.Unlock()
	return newPipe()
}

// newPipe makes a pipe and enlarges it to pipeSize; if the kernel refuses,
// it keeps the size it has, if that is at least minPipeSize.
func newPipe() *kpipe {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil // e.g. out of file descriptors: this chunk is copied
	}
	p := &kpipe{r: fds[0], w: fds[1]}
	fcntl(p.r, syscall.F_SETPIPE_SZ, pipeSize)
	size, err := fcntl(p.r, syscall.F_GETPIPE_SZ, 0)
	if err != nil || size < minPipeSize {
		p.close()
		return nil
	}
	p.size = min(size, pipeSize)
	return p
}

// putPipe returns p to the pool if it is empty and the pool has room, else
// closes it.
func putPipe(p *kpipe, empty bool) {
	pool.Lock()
	if empty && len(pool.idle) < maxIdle {
		pool.idle = append(pool.idle, p)
		p = nil
	}
	pool.Unlock()
	if p != nil {
		p.close()
	}
}

func (p *kpipe) close() {
	syscall.Close(p.r)
	syscall.Close(p.w)
}

// spliceIn waits until src has data (or its end) and moves what it has, at
// most limit and p.size bytes, into the empty pipe p. It returns io.EOF at
// the end, and errNoSplice if the kernel refuses.
func spliceIn(src *net.TCPConn, p *kpipe, limit int) (int, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var serr error
	err = rc.Read(func(fd uintptr) bool {
		n, serr = splice(int(fd), p.w, min(limit, p.size))
		// p is empty, so EAGAIN is the socket's: wait until it is readable.
		return serr != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case refused(serr):
		return 0, errNoSplice
	case serr != nil:
		return 0, os.NewSyscallError("splice", serr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// spliceOut moves the n bytes in pipe p to dst, waiting whenever dst has no
// room. If the kernel refuses, it copies them instead.
func spliceOut(dst *net.TCPConn, p *kpipe, n int) error {
	rc, err := dst.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for n > 0 && serr == nil {
			var m int
			m, serr = splice(p.r, int(fd), n)
			if serr == syscall.EAGAIN {
				// p holds data, so EAGAIN is the socket's: wait for room.
				serr = nil
				return false
			}
			if serr == nil && m == 0 {
				serr = io.ErrUnexpectedEOF // cannot be: p holds n bytes
			}
			n -= m
		}
		return true
	})
	switch {
	case err != nil:
		return err
	case refused(serr):
		return copyOut(dst, p, n)
	case serr != nil:
		return os.NewSyscallError("splice", serr)
	}
	return nil
}

// copyOut moves the n bytes in pipe p to dst through a buffer.
func copyOut(dst *net.TCPConn, p *kpipe, n int) error {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	for n > 0 {
		m, err := syscall.Read(p.r, (*buf)[:min(n, len(*buf))])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("read", err)
		}
		if m == 0 {
			return io.ErrUnexpectedEOF
		}
		if _, err := dst.Write((*buf)[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// refused tells whether err means splice cannot be used here (rather than
// that the connection failed); if so, it turns splicing off for good.
func refused(err error) bool {
	switch err {
	case syscall.EINVAL, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.EPERM:
		noSplice.Store(true)
		return true
	}
	return false
}

// splice moves at most n bytes from fd in to fd out, without blocking.
func splice(in, out, n int) (int, error) {
	for {
		m, err := syscall.Splice(in, nil, out, nil, n, spliceMove|spliceNonblock)
		if err == nil {
			return int(m), nil
		}
		if err != syscall.EINTR {
			return 0, err
		}
	}
}

func fcntl(fd, cmd, arg int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
