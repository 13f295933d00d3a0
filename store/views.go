package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/toppass/toppass/dataset"
)

// The dashboard's reads: summaries per set and per problem, one problem's
// candidates with their labels and scores, and the evaluations (scores
// under a model and a ranking method, and their per-set summaries). Each
// is one query over the indexes; none reads a whole table of labels into
// memory.

// SetSummary counts a set's problems, candidates and labels in env.
type SetSummary struct {
	Set        *Set
	Problems   int
	Candidates int
	Labelled   int
	Passed     int
}

// SetSummaries returns a summary of every active set, in the order of
// Sets.
func (s *Store) SetSummaries(ctx context.Context, env string) ([]*SetSummary, error) {
	sets, err := s.Sets(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*SetSummary{}
	out := make([]*SetSummary, len(sets))
	for i, st := range sets {
		out[i] = &SetSummary{Set: st}
		byID[st.ID] = out[i]
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT c.set_id, (SELECT count(*) FROM set_problems x WHERE x.set_id = c.set_id AND x.active = 1),
			count(*), count(l.passed), coalesce(sum(l.passed), 0)
		FROM candidates c
		JOIN set_problems sp ON sp.set_id = c.set_id AND sp.task_id = c.task_id AND sp.active = 1
		JOIN problems p ON p.id = sp.problem_id
		LEFT JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		WHERE c.active = 1
		GROUP BY c.set_id`, env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var sum SetSummary
		if err := rows.Scan(&id, &sum.Problems, &sum.Candidates, &sum.Labelled, &sum.Passed); err != nil {
			return nil, err
		}
		if o := byID[id]; o != nil {
			sum.Set = o.Set
			*o = sum
		}
	}
	return out, rows.Err()
}

// SetByID returns an active set.
func (s *Store) SetByID(ctx context.Context, id int64) (*Set, error) {
	var st Set
	err := s.r.QueryRowContext(ctx, `SELECT id, dir, added, scanned, error FROM sets WHERE id = ? AND active = 1`, id).
		Scan(&st.ID, &st.Dir, &st.Added, &st.Scanned, &st.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no watched set %d", id)
	}
	return &st, err
}

// ProblemSummary counts one problem's candidates and labels, and says
// whether the candidate a ranking put first passes.
type ProblemSummary struct {
	TaskID     string
	Candidates int
	Labelled   int
	Passed     int
	// Top1 is the label of the candidate ranked first under the model and
	// method asked for: 1 passes, 0 fails, -1 not ranked or not labelled.
	Top1 int
}

// ProblemSummaries returns the set's active problems in task order, with
// the rankings of model and method.
func (s *Store) ProblemSummaries(ctx context.Context, setID int64, env, model, method string) ([]*ProblemSummary, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT sp.task_id, count(c.id), count(l.passed), coalesce(sum(l.passed), 0),
			coalesce(max(CASE WHEN sc.rank = 1 AND l.passed IS NOT NULL THEN l.passed END), -1)
		FROM set_problems sp
		JOIN problems p ON p.id = sp.problem_id
		LEFT JOIN candidates c ON c.set_id = sp.set_id AND c.task_id = sp.task_id AND c.active = 1
		LEFT JOIN labels l ON l.problem_hash = p.hash AND l.cand_hash = c.hash AND l.env = ?
		LEFT JOIN scores sc ON sc.set_id = sp.set_id AND sc.model = ? AND sc.method = ?
			AND sc.problem_hash = p.hash AND sc.cand_hash = c.hash
		WHERE sp.set_id = ? AND sp.active = 1
		GROUP BY sp.task_id
		ORDER BY sp.task_id`, env, model, method, setID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ProblemSummary
	for rows.Next() {
		var p ProblemSummary
		if err := rows.Scan(&p.TaskID, &p.Candidates, &p.Labelled, &p.Passed, &p.Top1); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

// Score is a candidate's score under a model and a ranking method.
type Score struct {
	ProblemHash string          `json:"-"`
	CandHash    string          `json:"-"`
	Score       float64         `json:"score"`
	PPass       float64         `json:"p_pass"` // -1: the method has none
	Rank        int             `json:"rank"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// CandidateView is a candidate of a problem with its label and score.
type CandidateView struct {
	Index     int
	Hash      string
	Candidate *dataset.Candidate
	Origin    string
	Label     *dataset.Label // nil: not labelled yet
	Score     *Score         // nil: not scored under the model and method
}

// ProblemView returns a problem of a set and its active candidates in
// index order, with their labels in env and scores under model and method.
func (s *Store) ProblemView(ctx context.Context, setID int64, task, env, model, method string) (*dataset.Problem, []*CandidateView, error) {
	var pdata, phash string
	err := s.r.QueryRowContext(ctx, `SELECT p.data, p.hash FROM set_problems sp JOIN problems p ON p.id = sp.problem_id
		WHERE sp.set_id = ? AND sp.task_id = ? AND sp.active = 1`, setID, task).Scan(&pdata, &phash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("no problem %q in set %d", task, setID)
	}
	if err != nil {
		return nil, nil, err
	}
	prob, err := dataset.ParseProblem([]byte(pdata))
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT c.idx, c.hash, c.data, c.origin, l.data, sc.score, sc.p_pass, sc.rank, sc.data
		FROM candidates c
		LEFT JOIN labels l ON l.problem_hash = ? AND l.cand_hash = c.hash AND l.env = ?
		LEFT JOIN scores sc ON sc.set_id = c.set_id AND sc.model = ? AND sc.method = ?
			AND sc.problem_hash = ? AND sc.cand_hash = c.hash
		WHERE c.set_id = ? AND c.task_id = ? AND c.active = 1
		ORDER BY c.idx`, phash, env, model, method, phash, setID, task)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []*CandidateView
	for rows.Next() {
		var v CandidateView
		var cdata string
		var ldata, sdata sql.NullString
		var score, ppass sql.NullFloat64
		var rank sql.NullInt64
		if err := rows.Scan(&v.Index, &v.Hash, &cdata, &v.Origin, &ldata, &score, &ppass, &rank, &sdata); err != nil {
			return nil, nil, err
		}
		if v.Candidate, err = dataset.ParseCandidate([]byte(cdata)); err != nil {
			return nil, nil, err
		}
		if ldata.Valid {
			v.Label = new(dataset.Label)
			if err := json.Unmarshal([]byte(ldata.String), v.Label); err != nil {
				return nil, nil, err
			}
			v.Label.TaskID, v.Label.Index = task, v.Index
		}
		if score.Valid {
			v.Score = &Score{ProblemHash: phash, CandHash: v.Hash, Score: score.Float64, PPass: ppass.Float64,
				Rank: int(rank.Int64), Data: json.RawMessage(sdata.String)}
		}
		out = append(out, &v)
	}
	return prob, out, rows.Err()
}

// PutScores stores the scores of one problem's candidates in a set under a
// model and a method, replacing those stored before for that problem.
func (s *Store) PutScores(ctx context.Context, setID int64, model, method, problemHash string, scores []Score) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM scores WHERE set_id = ? AND model = ? AND method = ? AND problem_hash = ?`,
			setID, model, method, problemHash); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO scores(set_id, model, method, problem_hash, cand_hash, score, p_pass, rank, data, created)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, sc := range scores {
			data := string(sc.Data)
			if data == "" {
				data = "{}"
			}
			if _, err := st.ExecContext(ctx, setID, model, method, problemHash, sc.CandHash, sc.Score, sc.PPass, sc.Rank, data, now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Eval is the summary of a set's rankings under a model and a method.
type Eval struct {
	SetID   int64           `json:"set"`
	Model   string          `json:"model"`
	Method  string          `json:"method"`
	Data    json.RawMessage `json:"data"`
	Created int64           `json:"created"`
}

// PutEval stores (or replaces) an evaluation's summary.
func (s *Store) PutEval(ctx context.Context, e *Eval) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO evals(set_id, model, method, data, created) VALUES(?, ?, ?, ?, ?)
			ON CONFLICT(set_id, model, method) DO UPDATE SET data = excluded.data, created = excluded.created`,
			e.SetID, e.Model, e.Method, string(e.Data), now())
		return err
	})
}

// Evals returns the evaluations of the active sets (setID 0) or of one
// set, by set, model and method.
func (s *Store) Evals(ctx context.Context, setID int64) ([]*Eval, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.set_id, e.model, e.method, e.data, e.created FROM evals e
		JOIN sets st ON st.id = e.set_id AND st.active = 1
		WHERE ? = 0 OR e.set_id = ? ORDER BY e.set_id, e.model, e.method`, setID, setID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Eval
	for rows.Next() {
		var e Eval
		var data string
		if err := rows.Scan(&e.SetID, &e.Model, &e.Method, &data, &e.Created); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		out = append(out, &e)
	}
	return out, rows.Err()
}
