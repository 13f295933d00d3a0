package label

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/sandbox"
)

// RunConfig is a labelling job: every candidate of Candidates, judged
// against its problem in Problems, appended to Out.
type RunConfig struct {
	Problems   string
	Candidates string
	Out        string
	Workers    int // default: the number of CPUs
	Sandbox    sandbox.Config
	Options    Options
	Progress   io.Writer // where the progress bar goes; nil for none
}

// Summary describes a finished job.
type Summary struct {
	Labelled    int                  // labelled in this run
	Resumed     int                  // already in Out, skipped
	InputErrors int                  // bad input lines (reported with file:line)
	Errors      []*dataset.LineError // the first 100 of them
	Passed      int                  // of Labelled
	Status      map[string]int       // of Labelled
	Elapsed     time.Duration
}

func (s *Summary) String() string {
	keys := make([]string, 0, len(s.Status))
	for k := range s.Status {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s.Status[k]))
	}
	rate := float64(s.Labelled) / max(s.Elapsed.Seconds(), 1e-9)
	return fmt.Sprintf("labelled %d (%s) in %.1fs, %.1f/s; %d already done; %d bad input lines",
		s.Labelled, strings.Join(parts, " "), s.Elapsed.Seconds(), rate, s.Resumed, s.InputErrors)
}

// ErrInput reports that some input lines were bad (each was logged).
var ErrInput = dataset.ErrInput

// Run labels the candidates. Labels already in Out are kept and their
// candidates skipped, so a killed job resumes where it stopped; each label
// is appended with a single write, so a kill loses at most that line (a torn
// last line is cut off on resume). Bad input lines are logged with
// file:line and skipped; Run then returns ErrInput after finishing the rest.
func Run(ctx context.Context, cfg RunConfig) (*Summary, error) {
	start := time.Now()
	sum := &Summary{Status: map[string]int{}}
	var bad dataset.ErrorLog
	onErr := bad.Add
	probs, _, err := dataset.ReadProblems(cfg.Problems, onErr)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	done, err := prepareOut(cfg.Out, onErr)
	if err != nil {
		return nil, err
	}
	if err := sameBudget(cfg.Out, done, cfg.Sandbox); err != nil {
		return nil, err
	}
	var todo []*dataset.Candidate
	err = dataset.ReadCandidates(cfg.Candidates, func(c *dataset.Candidate) error {
		if _, ok := probs[c.TaskID]; !ok {
			return fmt.Errorf("unknown task_id %q (not in %s)", c.TaskID, cfg.Problems)
		}
		if _, ok := done[c.Key()]; ok {
			sum.Resumed++
			return nil
		}
		todo = append(todo, c)
		return nil
	}, onErr)
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	sum.InputErrors, sum.Errors = bad.N, bad.First
	if len(todo) == 0 {
		sum.Elapsed = time.Since(start)
		return sum, bad.Err()
	}

	sb, err := sandbox.New(ctx, cfg.Sandbox)
	if err != nil {
		return nil, err
	}
	defer sb.Close(context.Background())
	slog.Debug("sandbox ready", "init", sb.InitTime, "image_bytes", sb.ImageSize())

	out, err := os.OpenFile(cfg.Out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()

	var passed atomic.Int64
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, "label", int64(len(todo)), func() string {
			return fmt.Sprintf("passed %d", passed.Load())
		})
	}
	lb := &Labeler{SB: sb, Opts: cfg.Options}
	var mu sync.Mutex // guards out, sum and writeErr
	var writeErr error
	err = workpool.Each(ctx, len(todo), cfg.Workers, func(i int) error {
		c := todo[i]
		l, err := lb.Label(ctx, probs[c.TaskID], c)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(l)
		mu.Lock()
		defer mu.Unlock()
		if writeErr != nil {
			return nil
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			writeErr = err
			return nil
		}
		sum.Labelled++
		sum.Status[l.Status]++
		if l.Passed {
			sum.Passed++
			passed.Add(1)
		}
		if bar != nil {
			bar.Add(1)
		}
		return nil
	})
	if bar != nil {
		bar.Done()
	}
	sum.Elapsed = time.Since(start)
	switch {
	case err != nil && ctx.Err() != nil:
		return sum, ctx.Err()
	case err != nil:
		return sum, err
	case writeErr != nil:
		return sum, writeErr
	}
	return sum, bad.Err()
}

// prepareOut reads the labels already in path, cuts off a torn last line
// and makes sure the file ends with a newline.
func prepareOut(path string, onErr func(*dataset.LineError) error) (map[dataset.Key]*dataset.Label, error) {
	if strings.HasSuffix(path, ".gz") {
		return nil, fmt.Errorf("%s: labels are appended as they come, so the output is plain JSONL, not .gz", path)
	}
	labels, end, err := dataset.ReadLabels(path, onErr)
	if errors.Is(err, fs.ErrNotExist) {
		return map[dataset.Key]*dataset.Label{}, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if end < st.Size() {
		slog.Warn("cutting a torn last line (an earlier run was killed while writing it)", "file", path, "bytes", st.Size()-end)
		if err := os.Truncate(path, end); err != nil {
			return nil, err
		}
	}
	if end > 0 {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, end-1); err != nil {
			return nil, err
		}
		if last[0] != '\n' {
			if _, err := f.WriteAt([]byte{'\n'}, end); err != nil {
				return nil, err
			}
		}
	}
	return labels, nil
}

// sameBudget refuses to append to labels made under another time budget: a
// labels file is one set of reproducible facts. Labels from before budgets
// existed (budget_ms absent) are kept, with a warning.
func sameBudget(path string, done map[dataset.Key]*dataset.Label, cfg sandbox.Config) error {
	budget := cfg.Timeout
	if budget <= 0 {
		budget = sandbox.DefaultTimeout
	}
	legacy := 0
	for _, l := range done {
		switch {
		case l.BudgetMS == 0:
			legacy++
		case l.BudgetMS != budget.Milliseconds():
			return fmt.Errorf("%s holds labels made under a time budget of %v (%s #%d); this run's is %v: use that --timeout or another --out",
				path, time.Duration(l.BudgetMS)*time.Millisecond, l.TaskID, l.Index, budget)
		}
	}
	if legacy > 0 {
		slog.Warn("labels without a recorded time budget are kept (made by an older toppass under a wall-clock limit)", "file", path, "labels", legacy)
	}
	return nil
}
