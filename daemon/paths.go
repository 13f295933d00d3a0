package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Paths are where the daemon keeps its files, following the XDG Base
// Directory specification: a variable that is unset, empty or not an
// absolute path is ignored and the spec's default used instead.
type Paths struct {
	Config  string // $XDG_CONFIG_HOME/toppass: config.toml
	Data    string // $XDG_DATA_HOME/toppass: the store, models
	State   string // $XDG_STATE_HOME/toppass: daemon.log
	Cache   string // $XDG_CACHE_HOME/toppass: compilation cache
	Runtime string // $XDG_RUNTIME_DIR/toppass: the socket and the lock
}

// DefaultPaths reads the XDG variables.
func DefaultPaths() (Paths, error) {
	home, herr := os.UserHomeDir()
	dir := func(env, def string) (string, error) {
		if v := os.Getenv(env); filepath.IsAbs(v) {
			return filepath.Join(v, "toppass"), nil
		}
		if herr != nil {
			return "", fmt.Errorf("neither %s nor a home directory is set: %w", env, herr)
		}
		return filepath.Join(home, def, "toppass"), nil
	}
	var p Paths
	var err error
	for _, d := range []struct {
		to       *string
		env, def string
	}{
		{&p.Config, "XDG_CONFIG_HOME", ".config"},
		{&p.Data, "XDG_DATA_HOME", ".local/share"},
		{&p.State, "XDG_STATE_HOME", ".local/state"},
		{&p.Cache, "XDG_CACHE_HOME", ".cache"},
	} {
		if *d.to, err = dir(d.env, d.def); err != nil {
			return p, err
		}
	}
	// XDG_RUNTIME_DIR has no default: the spec asks for a replacement
	// with the same guarantees (owned by the user, mode 0700).
	if v := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(v) {
		p.Runtime = filepath.Join(v, "toppass")
	} else {
		p.Runtime = filepath.Join(os.TempDir(), fmt.Sprintf("toppass-%d", os.Getuid()))
	}
	return p, nil
}

// Socket is the API's Unix socket.
func (p Paths) Socket() string { return filepath.Join(p.Runtime, "daemon.sock") }

// Lock is the one-instance lock file, which holds the daemon's pid.
func (p Paths) Lock() string { return filepath.Join(p.Runtime, "daemon.lock") }

// DB is the store.
func (p Paths) DB() string { return filepath.Join(p.Data, "toppass.db") }

// Models holds fine-tuned models, one folder each.
func (p Paths) Models() string { return filepath.Join(p.Data, "models") }

// PassRefit is the P(pass) model refit to the user's generator.
func (p Paths) PassRefit() string { return filepath.Join(p.Data, "pass-refit.json") }

// Log is the daemon's log file.
func (p Paths) Log() string { return filepath.Join(p.State, "daemon.log") }

// ConfigFile is the configuration file.
func (p Paths) ConfigFile() string { return filepath.Join(p.Config, "config.toml") }

// secureDir makes dir (mode 0700) and checks that it belongs to this user
// and that nobody else can enter it: the socket's permissions are only as
// good as its folder's.
func secureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d)", dir, sys.Uid)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return errors.Join(fmt.Errorf("%s is open to other users (mode %v)", dir, st.Mode().Perm()), err)
		}
	}
	return nil
}

// IsolatedPaths makes a user's XDG folders (config, data, state, cache,
// runtime) under root, for a daemon of its own (benchmarks, tests), and
// returns its paths and the environment variables that point a process
// at them.
func IsolatedPaths(root string) (Paths, []string, error) {
	var env []string
	for _, kv := range [][2]string{{"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"}, {"XDG_STATE_HOME", "state"},
		{"XDG_CACHE_HOME", "cache"}, {"XDG_RUNTIME_DIR", "run"}} {
		dir := filepath.Join(root, kv[1])
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Paths{}, nil, err
		}
		env = append(env, kv[0]+"="+dir)
	}
	p := Paths{Config: filepath.Join(root, "config", "toppass"), Data: filepath.Join(root, "data", "toppass"),
		State: filepath.Join(root, "state", "toppass"), Cache: filepath.Join(root, "cache", "toppass"),
		Runtime: filepath.Join(root, "run", "toppass")}
	return p, env, os.MkdirAll(p.Config, 0o700)
}
