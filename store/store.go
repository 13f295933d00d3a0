// Package store keeps everything the daemon knows in one SQLite database:
// problems, candidates, labels, scores, per-candidate features, models,
// jobs and watched folders.
//
// Why SQLite: the daemon must never lose a label it has written, even when
// it is killed with SIGKILL in the middle of a batch, and clients read
// while it writes. SQLite in WAL mode gives atomic, durable transactions
// (synchronous=FULL: a committed label survives a crash of the process and
// of the machine), readers that never block the writer, and
// `PRAGMA integrity_check`. The driver is modernc.org/sqlite, SQLite
// translated to Go: no cgo, one static binary, no compile step at start-up
// (ncruces/go-sqlite3 runs SQLite as WebAssembly on wazero like our
// sandbox, but compiles a second module at every cold start and would tie
// our wazero version to its own).
//
// Why content keys: a problem is identified by the hash of what defines it
// (prompt, tests, entry point), a candidate by the hash of its code, a
// label by both and by the sandbox environment it was made in (the
// interpreter, the harness, the limits). Asking for a label that exists
// costs a lookup; nothing is run twice, and a label made under other limits
// is never mistaken for this one.
//
// One writer: every write goes through a single connection (SQLite allows
// one writer at a time anyway); reads use a pool of read-only connections.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Store is an open database.
type Store struct {
	path string
	w    *sql.DB // the one writer
	r    *sql.DB // readers
	// version counts the write transactions committed since Open: a
	// reader that caches a view keys it by the version it was made at.
	version atomic.Int64
}

// Open opens (creating it if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Add("_pragma", extra)
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(ON)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	s.r = r
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// IntegrityCheck runs SQLite's integrity check and returns its verdict
// ("ok" when the database is sound).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&v)
	return v, err
}

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.version.Add(1)
	return nil
}

// Version counts the write transactions committed since Open: a view read
// at one version is current while the version stays the same.
func (s *Store) Version() int64 { return s.version.Load() }

func now() int64 { return time.Now().UnixMilli() }
