package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/toppass/toppass/dataset"
)

// Hash is the content key of a text: hex SHA-256.
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ProblemHash is what identifies a problem: everything that decides a
// candidate's label (the prompt, the tests in every form, the entry point).
func ProblemHash(p *dataset.Problem) string {
	b, _ := json.Marshal(p)
	return Hash("problem", string(b))
}

// CandidateHash identifies a candidate by its code.
func CandidateHash(c *dataset.Candidate) string {
	code, _ := c.Code()
	kind := "completion"
	if c.Solution != nil {
		kind = "solution"
	}
	return Hash(kind, code)
}

// Set is a watched folder.
type Set struct {
	ID      int64  `json:"id"`
	Dir     string `json:"dir"`
	Added   int64  `json:"added"`
	Scanned int64  `json:"scanned"`
	Error   string `json:"error,omitempty"`
}

// AddSet registers dir (absolute) as a watched set, or reactivates it.
func (s *Store) AddSet(ctx context.Context, dir string) (*Set, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sets(dir, added) VALUES(?, ?)
			ON CONFLICT(dir) DO UPDATE SET active = 1`, dir, now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.SetByDir(ctx, dir)
}

// RemoveSet stops watching dir; its candidates and labels stay as history.
func (s *Store) RemoveSet(ctx context.Context, dir string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sets SET active = 0 WHERE dir = ? AND active = 1`, dir)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s is not watched", dir)
		}
		return nil
	})
}

// SetByDir returns the set of dir (active or not).
func (s *Store) SetByDir(ctx context.Context, dir string) (*Set, error) {
	var st Set
	err := s.r.QueryRowContext(ctx, `SELECT id, dir, added, scanned, error FROM sets WHERE dir = ?`, dir).
		Scan(&st.ID, &st.Dir, &st.Added, &st.Scanned, &st.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s is not watched", dir)
	}
	return &st, err
}

// Sets lists the active sets.
func (s *Store) Sets(ctx context.Context) ([]*Set, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, dir, added, scanned, error FROM sets WHERE active = 1 ORDER BY dir`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Set
	for rows.Next() {
		var st Set
		if err := rows.Scan(&st.ID, &st.Dir, &st.Added, &st.Scanned, &st.Error); err != nil {
			return nil, err
		}
		out = append(out, &st)
	}
	return out, rows.Err()
}

// SetError records the outcome of a set's last scan ("" when it was read
// without error).
func (s *Store) SetError(ctx context.Context, setID int64, msg string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sets SET error = ?, scanned = ? WHERE id = ?`, msg, now(), setID)
		return err
	})
}

// SyncResult says what a sync changed.
type SyncResult struct {
	Problems, NewCandidates, Changed, Removed int
}

// Sync makes the set's problems and candidates those given: new problems
// and candidates are added, changed ones updated (a changed problem is a
// new problem: its old labels stay under its old hash), and those no
// longer present are deactivated, kept as history. One transaction.
func (s *Store) Sync(ctx context.Context, setID int64, probs []*dataset.Problem, cands []*dataset.Candidate) (*SyncResult, error) {
	res := &SyncResult{}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		tasks := map[string]bool{}
		for _, p := range probs {
			tasks[p.TaskID] = true
			data, err := json.Marshal(p)
			if err != nil {
				return err
			}
			h := ProblemHash(p)
			if _, err := tx.ExecContext(ctx, `INSERT INTO problems(hash, task_id, data, created) VALUES(?, ?, ?, ?)
				ON CONFLICT(hash) DO NOTHING`, h, p.TaskID, string(data), now()); err != nil {
				return err
			}
			var pid int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM problems WHERE hash = ?`, h).Scan(&pid); err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO set_problems(set_id, task_id, problem_id) VALUES(?, ?, ?)
				ON CONFLICT(set_id, task_id) DO UPDATE SET problem_id = excluded.problem_id, active = 1
				WHERE problem_id != excluded.problem_id OR active = 0`, setID, p.TaskID, pid)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.Problems++
			}
		}
		// Problems gone from the set.
		rows, err := tx.QueryContext(ctx, `SELECT task_id FROM set_problems WHERE set_id = ? AND active = 1`, setID)
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !tasks[id] {
				gone = append(gone, id)
			}
		}
		rows.Close()
		for _, id := range gone {
			if _, err := tx.ExecContext(ctx, `UPDATE set_problems SET active = 0 WHERE set_id = ? AND task_id = ?`, setID, id); err != nil {
				return err
			}
		}

		type key struct {
			task string
			idx  int
		}
		// The set's candidates as stored, read once; then only what
		// changed is written, with prepared statements.
		stored := map[key]struct {
			hash   string
			active bool
		}{}
		rows, err = tx.QueryContext(ctx, `SELECT task_id, idx, hash, active FROM candidates WHERE set_id = ?`, setID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			var h string
			var a bool
			if err := rows.Scan(&k.task, &k.idx, &h, &a); err != nil {
				rows.Close()
				return err
			}
			stored[k] = struct {
				hash   string
				active bool
			}{h, a}
		}
		rows.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO candidates(set_id, task_id, idx, hash, data, origin, created, updated)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE candidates SET hash = ?, data = ?, origin = ?, active = 1, updated = ?
			WHERE set_id = ? AND task_id = ? AND idx = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		present := map[key]bool{}
		for _, c := range cands {
			k := key{c.TaskID, *c.Index}
			present[k] = true
			h := CandidateHash(c)
			old, seen := stored[k]
			if seen && old.hash == h && old.active {
				continue
			}
			data, err := json.Marshal(c)
			if err != nil {
				return err
			}
			origin := fmt.Sprintf("%s:%d", c.File, c.Line)
			if !seen {
				_, err = ins.ExecContext(ctx, setID, c.TaskID, *c.Index, h, string(data), origin, now(), now())
				res.NewCandidates++
			} else {
				_, err = upd.ExecContext(ctx, h, string(data), origin, now(), setID, c.TaskID, *c.Index)
				res.Changed++
			}
			if err != nil {
				return err
			}
		}
		rows, err = tx.QueryContext(ctx, `SELECT task_id, idx FROM candidates WHERE set_id = ? AND active = 1`, setID)
		if err != nil {
			return err
		}
		var removed []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.task, &k.idx); err != nil {
				rows.Close()
				return err
			}
			if !present[k] {
				removed = append(removed, k)
			}
		}
		rows.Close()
		for _, k := range removed {
			if _, err := tx.ExecContext(ctx, `UPDATE candidates SET active = 0, updated = ? WHERE set_id = ? AND task_id = ? AND idx = ?`,
				now(), setID, k.task, k.idx); err != nil {
				return err
			}
		}
		res.Removed = len(removed)
		_, err = tx.ExecContext(ctx, `UPDATE sets SET scanned = ?, error = '' WHERE id = ?`, now(), setID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
