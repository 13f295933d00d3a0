//go:build !linux

package daemon

// background does nothing where threads cannot be given a priority.
func background(int) {}
