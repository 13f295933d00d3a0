package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/toppass/toppass/dataset"
)

// Pending is an active candidate without a label in env, with its problem.
type Pending struct {
	CandID      int64
	SetID       int64
	ProblemHash string
	CandHash    string
	Problem     *dataset.Problem
	Candidate   *dataset.Candidate
}

// Pending returns up to limit candidates of set (0: every set) that have no
// label made in env, oldest first.
func (s *Store) Pending(ctx context.Context, setID int64, env string, limit int) ([]*Pending, error) {
	return s.PendingAfter(ctx, setID, env, 0, limit)
}

// PendingAfter is Pending from candidate id after on: a job that walks the
// candidates in order does not scan the labelled ones again.
func (s *Store) PendingAfter(ctx context.Context, setID int64, env string, after int64, limit int) ([]*Pending, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT c.id, c.set_id, p.hash, c.hash, p.data, c.data, c.origin
		FROM candidates c
		JOIN sets st ON st.id = c.set_id AND st.active = 1
		JOIN set_problems sp ON sp.set_id = c.set_id AND sp.task_id = c.task_id AND sp.active = 1
		JOIN problems p ON p.id = sp.problem_id
		LEFT JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		WHERE c.id > ? AND c.active = 1 AND l.problem_hash IS NULL AND (? = 0 OR c.set_id = ?)
		ORDER BY c.id LIMIT ?`, env, after, setID, setID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Pending
	for rows.Next() {
		var pd Pending
		var pdata, cdata, origin string
		if err := rows.Scan(&pd.CandID, &pd.SetID, &pd.ProblemHash, &pd.CandHash, &pdata, &cdata, &origin); err != nil {
			return nil, err
		}
		var err error
		if pd.Problem, err = dataset.ParseProblem([]byte(pdata)); err != nil {
			return nil, err
		}
		if pd.Candidate, err = dataset.ParseCandidate([]byte(cdata)); err != nil {
			return nil, err
		}
		pd.Candidate.File = origin
		out = append(out, &pd)
	}
	return out, rows.Err()
}

// CountPending counts the candidates of set (0: every set) waiting for a
// label in env.
func (s *Store) CountPending(ctx context.Context, setID int64, env string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `
		SELECT count(*) FROM candidates c
		JOIN sets st ON st.id = c.set_id AND st.active = 1
		JOIN set_problems sp ON sp.set_id = c.set_id AND sp.task_id = c.task_id AND sp.active = 1
		JOIN problems p ON p.id = sp.problem_id
		LEFT JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		WHERE c.active = 1 AND l.problem_hash IS NULL AND (? = 0 OR c.set_id = ?)`, env, setID, setID).Scan(&n)
	return n, err
}

// Labelled is a label to store.
type Labelled struct {
	ProblemHash, CandHash string
	Label                 *dataset.Label
}

// PutLabels stores labels made in env, in one transaction. A label that is
// already there is kept and its runs count goes up (it should not happen:
// the count is how tests show that nothing ran twice).
func (s *Store) PutLabels(ctx context.Context, env string, ls []Labelled) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO labels(problem_hash, cand_hash, env, passed, status, data, created)
			VALUES(?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(problem_hash, cand_hash, env) DO UPDATE SET runs = runs + 1`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, l := range ls {
			data, err := json.Marshal(l.Label)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, l.ProblemHash, l.CandHash, env, l.Label.Passed, l.Label.Status, string(data), now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Label returns the label of a candidate in env, or nil.
func (s *Store) Label(ctx context.Context, problemHash, candHash, env string) (*dataset.Label, error) {
	var data string
	err := s.r.QueryRowContext(ctx, `SELECT data FROM labels WHERE problem_hash = ? AND cand_hash = ? AND env = ?`,
		problemHash, candHash, env).Scan(&data)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l dataset.Label
	return &l, json.Unmarshal([]byte(data), &l)
}

// LabelStats counts the stored labels, and the most times one label was
// stored.
func (s *Store) LabelStats(ctx context.Context) (labels, maxRuns int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(max(runs), 0) FROM labels`).Scan(&labels, &maxRuns)
	return labels, maxRuns, err
}

// EachLabel calls fn with every active candidate's label in env, in set,
// task and index order, with the candidate's task id and index in its set
// (the same schema as `toppass label` writes).
func (s *Store) EachLabel(ctx context.Context, env string, fn func(*dataset.Label) error) error {
	rows, err := s.r.QueryContext(ctx, `
		SELECT c.task_id, c.idx, l.data FROM candidates c
		JOIN set_problems sp ON sp.set_id = c.set_id AND sp.task_id = c.task_id
		JOIN problems p ON p.id = sp.problem_id
		JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		WHERE c.active = 1
		ORDER BY c.set_id, c.task_id, c.idx`, env)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var task, data string
		var idx int
		if err := rows.Scan(&task, &idx, &data); err != nil {
			return err
		}
		var l dataset.Label
		if err := json.Unmarshal([]byte(data), &l); err != nil {
			return err
		}
		l.TaskID, l.Index = task, idx
		if err := fn(&l); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LabelledProblems counts the problems (set and task) that TrainingRows
// would return rows of, without reading them.
func (s *Store) LabelledProblems(ctx context.Context, env string, setID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT DISTINCT c.set_id, c.task_id`+labelledFrom+`)`,
		env, setID, setID).Scan(&n)
	return n, err
}

// TrainingRow is a labelled active candidate with its problem.
type TrainingRow struct {
	SetID     int64
	Problem   *dataset.Problem
	Candidate *dataset.Candidate
	Label     *dataset.Label
}

// labelledFrom is the FROM and WHERE of TrainingRows: the active
// candidates of the active sets' active problems (of set ? only, unless
// 0) that have a label in env ?.
const labelledFrom = `
		FROM candidates c
		JOIN sets st ON st.id = c.set_id AND st.active = 1
		JOIN set_problems sp ON sp.set_id = c.set_id AND sp.task_id = c.task_id AND sp.active = 1
		JOIN problems p ON p.id = sp.problem_id
		JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		WHERE c.active = 1 AND (? = 0 OR c.set_id = ?)`

// TrainingRows returns every active candidate of the active sets (of set
// setID only, unless 0) that has a label in env, grouped by set and task:
// what fine-tuning learns from and what an evaluation ranks.
func (s *Store) TrainingRows(ctx context.Context, env string, setID int64) ([]*TrainingRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.set_id, p.data, c.data, l.data`+labelledFrom+`
		ORDER BY c.set_id, c.task_id, c.idx`, env, setID, setID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*TrainingRow
	probs := map[string]*dataset.Problem{}
	for rows.Next() {
		var r TrainingRow
		var pdata, cdata, ldata string
		if err := rows.Scan(&r.SetID, &pdata, &cdata, &ldata); err != nil {
			return nil, err
		}
		if r.Problem = probs[pdata]; r.Problem == nil {
			if r.Problem, err = dataset.ParseProblem([]byte(pdata)); err != nil {
				return nil, err
			}
			probs[pdata] = r.Problem
		}
		if r.Candidate, err = dataset.ParseCandidate([]byte(cdata)); err != nil {
			return nil, err
		}
		r.Label = new(dataset.Label)
		if err := json.Unmarshal([]byte(ldata), r.Label); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}
