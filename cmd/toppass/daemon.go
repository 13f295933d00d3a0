package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
)

// The daemon and its command-line clients. status, stop and logs never
// start the daemon; watch, model and export do.

type daemonCmd struct{}

func (daemonCmd) Run(ctx context.Context) error {
	paths, cfg, err := daemonSetup()
	if err != nil {
		return err
	}
	return daemon.Run(ctx, paths, cfg)
}

func daemonSetup() (daemon.Paths, daemon.Config, error) {
	paths, err := daemon.DefaultPaths()
	if err != nil {
		return paths, daemon.Config{}, err
	}
	cfg, err := daemon.LoadConfig(paths.ConfigFile())
	return paths, cfg, err
}

// connect dials the daemon; start says whether to start one.
func connect(ctx context.Context, start bool) (*daemon.Client, daemon.Paths, error) {
	paths, err := daemon.DefaultPaths()
	if err != nil {
		return nil, paths, err
	}
	if !start {
		c, err := daemon.Dial(ctx, paths)
		return c, paths, err
	}
	if _, err := daemon.LoadConfig(paths.ConfigFile()); err != nil {
		return nil, paths, err // say so here, not after a failed start
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, paths, err
	}
	c, err := daemon.Ensure(ctx, paths, exe, 60*time.Second)
	return c, paths, err
}

type statusCmd struct {
	JSON bool `name:"json" help:"Print the status as JSON."`
}

// daemonStatus asks the daemon for its status; start says whether to
// start one.
func daemonStatus(ctx context.Context, start bool) (*daemon.Status, error) {
	cl, _, err := connect(ctx, start)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var st daemon.Status
	if err := cl.Call(ctx, daemon.MethodStatus, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (c *statusCmd) Run(ctx context.Context) error {
	st, err := daemonStatus(ctx, false)
	if err != nil {
		return err
	}
	if c.JSON {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("toppass daemon, pid %d, up %v\n", st.PID, time.Since(time.UnixMilli(st.Started)).Round(time.Second))
	fmt.Printf("labels %d stored, %d pending; model %s; budget %s per candidate; %d workers\n", st.Labels, st.Pending, st.Model, st.Budget, st.Workers)
	fmt.Printf("P(pass) %s\n", st.PPass)
	fmt.Printf("store %s\nlog   %s\n", st.Store, st.LogFile)
	if st.DashboardURL != "" {
		fmt.Printf("dashboard %s\n", st.DashboardURL)
	}
	if len(st.Sets) > 0 {
		fmt.Println("\nwatched:")
		for _, s := range st.Sets {
			e := ""
			if s.Error != "" {
				e = "  ! " + s.Error
			}
			fmt.Printf("  %s%s\n", s.Dir, e)
		}
	}
	if len(st.Jobs) > 0 {
		fmt.Println("\njobs:")
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		for _, j := range st.Jobs {
			prog := ""
			if j.Total > 0 {
				prog = fmt.Sprintf("%d/%d", j.Done, j.Total)
			}
			fmt.Fprintf(tw, "  #%d\t%s\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, prog, j.Error)
		}
		tw.Flush()
	}
	if len(st.Errors) > 0 {
		fmt.Println("\nrecent problems:")
		for _, e := range st.Errors {
			fmt.Println("  " + e)
		}
	}
	return nil
}

type dashboardCmd struct {
	NoOpen bool `name:"no-open" help:"Only print the address."`
}

func (c *dashboardCmd) Run(ctx context.Context) error {
	st, err := daemonStatus(ctx, true)
	if err != nil {
		return err
	}
	if st.DashboardURL == "" {
		return errors.New("the dashboard is off: set [dashboard] enabled = true in config.toml and restart the daemon (toppass stop)")
	}
	fmt.Println(st.DashboardURL)
	if c.NoOpen || os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	if opener, err := exec.LookPath("xdg-open"); err == nil {
		cmd := exec.Command(opener, st.DashboardURL)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			slog.Warn("cannot open a browser", "err", err)
		} else {
			go cmd.Wait()
		}
	}
	return nil
}

type stopCmd struct{}

func (stopCmd) Run(ctx context.Context) error {
	cl, paths, err := connect(ctx, false)
	if err != nil {
		return err
	}
	// The daemon may close the connection before its answer arrives (it
	// stops at once): the call is bounded, and the lock says whether it
	// stopped.
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	callErr := cl.Call(callCtx, daemon.MethodShutdown, nil, nil)
	cancel()
	cl.Close()
	if err := daemon.WaitStopped(ctx, paths, 60*time.Second); err != nil {
		if callErr != nil {
			return callErr
		}
		return err
	}
	fmt.Println("stopped")
	return nil
}

type logsCmd struct {
	Follow bool `short:"f" help:"Keep printing new lines as the daemon logs them."`
	Lines  int  `short:"n" default:"50" help:"Lines to print from the end of the log."`
}

func (c *logsCmd) Run(ctx context.Context) error {
	cl, paths, err := connect(ctx, false)
	if errors.Is(err, daemon.ErrNotRunning) && !c.Follow {
		return tailFile(paths.Log(), c.Lines) // the file is there without a daemon
	}
	if err != nil {
		return err
	}
	defer cl.Close()
	var res daemon.LogsResult
	if err := cl.Call(ctx, daemon.MethodLogs, daemon.LogsParams{Lines: c.Lines}, &res); err != nil {
		return err
	}
	for _, l := range res.Lines {
		fmt.Println(l)
	}
	if !c.Follow {
		return nil
	}
	if err := cl.Call(ctx, daemon.MethodSubscribe, daemon.SubscribeParams{Logs: true}, nil); err != nil {
		return err
	}
	for {
		select {
		case n := <-cl.Notes():
			if n.Method == daemon.NotifyLog {
				fmt.Println(string(n.Params))
			}
		case <-cl.Done():
			return errors.New("the daemon closed the connection")
		case <-ctx.Done():
			return nil
		}
	}
}

func tailFile(path string, n int) error {
	lines, err := daemon.TailLog(path, n)
	if err != nil {
		return fmt.Errorf("%w (and no log at %s)", daemon.ErrNotRunning, path)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

type watchCmd struct {
	Dir    string `arg:"" optional:"" help:"A problem set folder to watch (see testdata/sets/README.md for the layouts)."`
	List   bool   `help:"List the watched folders."`
	Remove string `help:"Stop watching this folder (its labels stay in the store)."`
}

func (c *watchCmd) Run(ctx context.Context) error {
	if c.Dir == "" && !c.List && c.Remove == "" {
		return errors.New("give a folder, --list or --remove DIR")
	}
	cl, _, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer cl.Close()
	switch {
	case c.Remove != "":
		dir, err := filepath.Abs(c.Remove)
		if err != nil {
			return err
		}
		if err := cl.Call(ctx, daemon.MethodWatchRemove, daemon.DirParams{Dir: dir}, nil); err != nil {
			return err
		}
		fmt.Println("no longer watching", dir)
	case c.List:
		var sets []struct {
			Dir   string `json:"dir"`
			Error string `json:"error"`
		}
		if err := cl.Call(ctx, daemon.MethodWatchList, nil, &sets); err != nil {
			return err
		}
		for _, s := range sets {
			if s.Error != "" {
				fmt.Printf("%s\t! %s\n", s.Dir, s.Error)
			} else {
				fmt.Println(s.Dir)
			}
		}
	default:
		dir, err := filepath.Abs(c.Dir)
		if err != nil {
			return err
		}
		if err := cl.Call(ctx, daemon.MethodWatchAdd, daemon.DirParams{Dir: dir}, nil); err != nil {
			return err
		}
		fmt.Println("watching", dir)
	}
	return nil
}

type modelCmd struct {
	List modelListCmd `cmd:"" help:"List the models: the shipped one and every fine-tune, with metrics and the accept/refuse decision."`
	Use  modelUseCmd  `cmd:"" help:"Use model ID from now on (to go back to an earlier one)."`
}

type modelListCmd struct {
	JSON bool `name:"json" help:"Print JSON."`
}

func (c *modelListCmd) Run(ctx context.Context) error {
	cl, _, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer cl.Close()
	var ms []struct {
		ID       string          `json:"id"`
		Parent   string          `json:"parent"`
		Accepted bool            `json:"accepted"`
		Reason   string          `json:"reason"`
		Current  bool            `json:"current"`
		Metrics  json.RawMessage `json:"metrics"`
		Created  int64           `json:"created"`
	}
	if err := cl.Call(ctx, daemon.MethodModelList, nil, &ms); err != nil {
		return err
	}
	if c.JSON {
		b, _ := json.MarshalIndent(ms, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tid\tfrom\tcreated\tdecision")
	for _, m := range ms {
		cur := ""
		if m.Current {
			cur = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cur, m.ID, m.Parent, time.UnixMilli(m.Created).Format(time.DateTime), m.Reason)
	}
	return tw.Flush()
}

type modelUseCmd struct {
	ID string `arg:"" help:"Model id (toppass model list)."`
}

func (c *modelUseCmd) Run(ctx context.Context) error {
	cl, _, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Call(ctx, daemon.MethodModelUse, daemon.ModelParams{ID: c.ID}, nil); err != nil {
		return err
	}
	fmt.Println("using model", c.ID)
	return nil
}

type exportCmd struct {
	Labels exportLabelsCmd `cmd:"" help:"Write every stored label of the watched candidates as JSONL, in toppass label's schema."`
}

type exportLabelsCmd struct {
	Out string `required:"" help:"File to write (replaced atomically)."`
}

func (c *exportLabelsCmd) Run(ctx context.Context) error {
	cl, _, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer cl.Close()
	tmp, err := os.CreateTemp(filepath.Dir(c.Out), "."+filepath.Base(c.Out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	n, offset := 0, 0
	for {
		var page daemon.ExportResult
		if err := cl.Call(ctx, daemon.MethodExportLabels, daemon.ExportParams{Offset: offset}, &page); err != nil {
			tmp.Close()
			return err
		}
		for _, l := range page.Labels {
			b, _ := json.Marshal(l)
			w.Write(append(b, '\n'))
			n++
		}
		if page.Next == 0 {
			break
		}
		offset = page.Next
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), c.Out); err != nil {
		return err
	}
	fmt.Printf("%d labels -> %s\n", n, c.Out)
	return nil
}

// viaDaemon ranks every problem's candidates through the daemon and writes
// one line per candidate: the rank scores with their evidence.
func (c *rankCmd) viaDaemon(ctx context.Context) error {
	var bad dataset.ErrorLog
	probs, order, byTask, err := ranker.ProblemCandidates(c.Problems, c.Candidates, &bad)
	if err != nil {
		return err
	}
	cl, _, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer cl.Close()
	f, err := os.Create(c.Out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	start := time.Now()
	cached := 0
	for _, id := range order {
		var res daemon.RankResult
		err := cl.Call(ctx, daemon.MethodRank, daemon.RankParams{Problem: probs[id], Candidates: byTask[id], Method: c.Method}, &res)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if res.Cached {
			cached++
		}
		for _, r := range res.Ranked {
			b, _ := json.Marshal(struct {
				TaskID string `json:"task_id"`
				daemon.Ranked
			}{id, r})
			w.Write(append(b, '\n'))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Printf("%d problems ranked by the daemon (%d from its cache) in %v -> %s\n", len(order), cached,
		time.Since(start).Round(time.Millisecond), c.Out)
	return bad.Err()
}
