package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version counts those done.
// Never edit one that has shipped: add the next.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE problems (
	id      INTEGER PRIMARY KEY,
	hash    TEXT NOT NULL UNIQUE, -- what defines the problem: prompt, tests, entry point
	task_id TEXT NOT NULL,
	data    TEXT NOT NULL,        -- the problem as JSON (dataset.Problem)
	created INTEGER NOT NULL
);
CREATE TABLE sets (
	id      INTEGER PRIMARY KEY,
	dir     TEXT NOT NULL UNIQUE, -- a watched folder, absolute
	added   INTEGER NOT NULL,
	scanned INTEGER NOT NULL DEFAULT 0,
	error   TEXT NOT NULL DEFAULT '',
	active  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE set_problems (
	set_id     INTEGER NOT NULL REFERENCES sets(id),
	task_id    TEXT NOT NULL,
	problem_id INTEGER NOT NULL REFERENCES problems(id),
	active     INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (set_id, task_id)
);
CREATE TABLE candidates (
	id      INTEGER PRIMARY KEY,
	set_id  INTEGER NOT NULL REFERENCES sets(id),
	task_id TEXT NOT NULL,
	idx     INTEGER NOT NULL,
	hash    TEXT NOT NULL,        -- the candidate's code
	data    TEXT NOT NULL,        -- the candidate as JSON (dataset.Candidate)
	origin  TEXT NOT NULL,        -- file:line it came from
	active  INTEGER NOT NULL DEFAULT 1, -- 0: removed; kept as history
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL,
	UNIQUE (set_id, task_id, idx)
);
CREATE INDEX candidates_active ON candidates(active, set_id, task_id);
CREATE TABLE labels (
	problem_hash TEXT NOT NULL,
	cand_hash    TEXT NOT NULL,
	env          TEXT NOT NULL,   -- sandbox version and limits
	passed       INTEGER NOT NULL,
	status       TEXT NOT NULL,
	data         TEXT NOT NULL,   -- dataset.Label as JSON
	runs         INTEGER NOT NULL DEFAULT 1, -- times it was stored: 1 unless a candidate ran twice
	created      INTEGER NOT NULL,
	PRIMARY KEY (problem_hash, cand_hash, env)
);
CREATE TABLE cache (
	kind    TEXT NOT NULL,        -- rank, static, probe
	key     TEXT NOT NULL,
	data    TEXT NOT NULL,
	created INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE TABLE models (
	id       TEXT PRIMARY KEY,
	parent   TEXT NOT NULL DEFAULT '',
	dir      TEXT NOT NULL,       -- '' for the shipped model
	metrics  TEXT NOT NULL DEFAULT '{}',
	accepted INTEGER NOT NULL DEFAULT 0,
	reason   TEXT NOT NULL DEFAULT '',
	created  INTEGER NOT NULL
);
CREATE TABLE jobs (
	id       INTEGER PRIMARY KEY,
	kind     TEXT NOT NULL,       -- rank, generate, label, train
	priority INTEGER NOT NULL,    -- lower runs first
	state    TEXT NOT NULL,       -- queued, running, done, failed, canceled
	params   TEXT NOT NULL DEFAULT '{}',
	done     INTEGER NOT NULL DEFAULT 0,
	total    INTEGER NOT NULL DEFAULT 0,
	error    TEXT NOT NULL DEFAULT '',
	created  INTEGER NOT NULL,
	updated  INTEGER NOT NULL
);
CREATE INDEX jobs_queue ON jobs(state, priority, id);
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 2: the dashboard's evaluations: each candidate's score under a model
	// and a ranking method, and each set's summary (pass@k, calibration).
	`
CREATE TABLE scores (
	set_id       INTEGER NOT NULL REFERENCES sets(id),
	model        TEXT NOT NULL,
	method       TEXT NOT NULL,   -- neural, hybrid, lexical
	problem_hash TEXT NOT NULL,
	cand_hash    TEXT NOT NULL,
	score        REAL NOT NULL,
	p_pass       REAL NOT NULL,   -- the neural ranker's P(pass); -1 when the method has none
	rank         INTEGER NOT NULL, -- 1 = best among the problem's candidates in the set
	data         TEXT NOT NULL,   -- evidence (daemon.Ranked without code) as JSON
	created      INTEGER NOT NULL,
	PRIMARY KEY (set_id, model, method, problem_hash, cand_hash)
);
CREATE TABLE evals (
	set_id  INTEGER NOT NULL REFERENCES sets(id),
	model   TEXT NOT NULL,
	method  TEXT NOT NULL,
	data    TEXT NOT NULL,        -- the summary as JSON
	created INTEGER NOT NULL,
	PRIMARY KEY (set_id, model, method)
);
`,
}

// SchemaVersion is the schema this build writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("the database has schema version %d, newer than this toppass (%d): use a newer toppass", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}
