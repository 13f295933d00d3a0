package daemon

import (
	"context"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/generate"
)

// generate asks the configured generator for n candidates of problem p.
func (d *Daemon) generate(ctx context.Context, p *dataset.Problem, n int, endpoint, model string) ([]*dataset.Candidate, error) {
	g := d.cfg.Generator
	if endpoint != "" {
		g.BaseURL = endpoint
	}
	if model != "" {
		g.Model = model
	}
	if n <= 0 {
		n = g.N
	}
	if p == nil {
		return nil, badParams("no problem")
	}
	cl, err := generate.New(generate.Config{BaseURL: g.BaseURL, APIKey: g.APIKey, Model: g.Model, Chat: g.Chat,
		Temperature: g.Temperature, MaxTokens: g.MaxTokens, Stop: g.Stop, Timeout: time.Duration(g.Timeout), Retries: g.Retries})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	texts, err := cl.Generate(ctx, p.Prompt, n)
	if err != nil {
		d.problem("generation failed: %v", err)
		return nil, err
	}
	d.log.Info("generated", "task", p.TaskID, "n", len(texts), "ms", time.Since(start).Milliseconds())
	out := make([]*dataset.Candidate, len(texts))
	for i, t := range texts {
		k, text := i, t
		c := &dataset.Candidate{TaskID: p.TaskID, Index: &k}
		if g.Chat && dataset.DefinesEntry(text, p.EntryPoint) {
			c.Solution = &text
		} else {
			c.Completion = &text
		}
		out[i] = c
	}
	return out, nil
}
