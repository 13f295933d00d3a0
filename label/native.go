package label

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"time"
)

// NativeResult is the verdict of the native harness.
type NativeResult struct {
	Passed   bool
	Status   string // pass, fail, timeout
	Duration time.Duration
}

// Native runs prog with a host python3 in a subprocess, the way the
// reference harnesses of HumanEval do: pass means exit status 0 within the
// timeout. It is unsandboxed and exists to compare with the sandbox (speed
// and agreement); never run untrusted code with it outside a throwaway
// machine.
func Native(ctx context.Context, python, prog string, timeout time.Duration) (*NativeResult, error) {
	f, err := os.CreateTemp("", "toppass-native-*.py")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(prog); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, python, f.Name())
	cmd.Stdin = bytes.NewReader(nil)
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Run()
	res := &NativeResult{Duration: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
		res.Passed, res.Status = true, "pass"
	case runCtx.Err() != nil && ctx.Err() == nil:
		res.Status = "timeout"
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &exit):
		res.Status = "fail"
	default:
		return nil, err
	}
	return res, nil
}
