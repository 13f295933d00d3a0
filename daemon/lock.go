package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrRunning says another daemon holds the lock.
type ErrRunning struct{ PID int }

func (e *ErrRunning) Error() string {
	return fmt.Sprintf("a toppass daemon is already running (pid %d)", e.PID)
}

// lock is the one-instance lock: an flock on a file holding the pid. The
// kernel drops an flock when its process dies, however it dies, so a lock
// file left by a killed daemon is free again: no stale locks, no guessing
// from pids.
type lock struct{ f *os.File }

func acquireLock(path string) (*lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &ErrRunning{PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return &lock{f: f}, nil
}

func (l *lock) release() {
	l.f.Truncate(0)
	l.f.Close()
}

// readPID reads the pid a lock file names (0 if none).
func readPID(path string) int {
	b, _ := os.ReadFile(path)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// lockHeld reports whether a live process holds the lock at path, and its
// pid: a client's way to tell a running daemon from a stale socket.
func lockHeld(path string) (bool, int) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, 0
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true, readPID(path)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, 0
}
