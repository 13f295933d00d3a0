package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
)

// Job priorities: lower runs first.
const (
	PriorityRank     = 0
	PriorityGenerate = 10
	PriorityLabel    = 20
	PriorityEval     = 25
	PriorityTrain    = 30
)

// Job states.
const (
	JobQueued   = "queued"
	JobRunning  = "running"
	JobDone     = "done"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// Job is a unit of work in the persistent queue.
type Job struct {
	ID       int64           `json:"id"`
	Kind     string          `json:"kind"`
	Priority int             `json:"priority"`
	State    string          `json:"state"`
	Params   json.RawMessage `json:"params,omitempty"`
	Done     int64           `json:"done"`
	Total    int64           `json:"total"`
	Error    string          `json:"error,omitempty"`
	Created  int64           `json:"created"`
	Updated  int64           `json:"updated"`
}

// AddJob queues a job. When dedupe is true and a queued or running job of
// the same kind and params exists, that job is returned instead.
func (s *Store) AddJob(ctx context.Context, kind string, priority int, params any, dedupe bool) (*Job, bool, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, false, err
	}
	var id int64
	added := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if dedupe {
			err := tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE kind = ? AND params = ? AND state IN ('queued', 'running') LIMIT 1`,
				kind, string(p)).Scan(&id)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO jobs(kind, priority, state, params, created, updated) VALUES(?, ?, 'queued', ?, ?, ?)`,
			kind, priority, string(p), now(), now())
		if err != nil {
			return err
		}
		added = true
		id, err = r.LastInsertId()
		return err
	})
	if err != nil {
		return nil, false, err
	}
	j, err := s.Job(ctx, id)
	return j, added, err
}

const jobCols = `id, kind, priority, state, params, done, total, error, created, updated`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var params string
	if err := row.Scan(&j.ID, &j.Kind, &j.Priority, &j.State, &params, &j.Done, &j.Total, &j.Error, &j.Created, &j.Updated); err != nil {
		return nil, err
	}
	j.Params = json.RawMessage(params)
	return &j, nil
}

// Job returns job id.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	return scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
}

// NextJob marks the first queued job of the given kinds (by priority, then
// age) running and returns it; nil when none waits.
func (s *Store) NextJob(ctx context.Context, kinds ...string) (*Job, error) {
	var j *Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q := `SELECT ` + jobCols + ` FROM jobs WHERE state = 'queued'`
		var args []any
		if len(kinds) > 0 {
			q += ` AND kind IN (?` + repeat(",?", len(kinds)-1) + `)`
			for _, k := range kinds {
				args = append(args, k)
			}
		}
		q += ` ORDER BY priority, id LIMIT 1`
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, q, args...))
		if errors.Is(err, sql.ErrNoRows) {
			j = nil
			return nil
		}
		if err != nil {
			return err
		}
		j.State = JobRunning
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'running', updated = ? WHERE id = ?`, now(), j.ID)
		return err
	})
	return j, err
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// Progress records a running job's progress.
func (s *Store) Progress(ctx context.Context, id, done, total int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET done = ?, total = ?, updated = ? WHERE id = ?`, done, total, now(), id)
		return err
	})
}

// FinishJob sets a job's final state (done, failed or canceled) and error.
func (s *Store) FinishJob(ctx context.Context, id int64, state, msg string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, updated = ? WHERE id = ?`, state, msg, now(), id)
		return err
	})
}

// RequeueRunning puts jobs left running by a daemon that died back in the
// queue, and returns how many there were. Every job kind resumes from what
// the store holds (labels written, the trainer's checkpoint).
func (s *Store) RequeueRunning(ctx context.Context) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'queued', updated = ? WHERE state = 'running'`, now())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return int(n), err
}

// Jobs lists the queued and running jobs, and the last finished ones.
func (s *Store) Jobs(ctx context.Context, finished int) ([]*Job, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE state IN ('queued', 'running')
		UNION ALL SELECT * FROM (SELECT `+jobCols+` FROM jobs WHERE state NOT IN ('queued', 'running') ORDER BY updated DESC, id DESC LIMIT ?)
		ORDER BY id`, finished)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// SetJobParams replaces a job's parameters (a job that names what it
// makes, so that a resumed run finds it).
func (s *Store) SetJobParams(ctx context.Context, id int64, params json.RawMessage) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET params = ?, updated = ? WHERE id = ?`, string(params), now(), id)
		return err
	})
}
