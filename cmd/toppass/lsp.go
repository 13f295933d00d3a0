package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/lsp"
)

type lspCmd struct {
	LogFile string `help:"Write the server's log here (stdout and stdin carry the protocol)." type:"path"`
	Debug   bool   `help:"Log every request."`
}

func (c *lspCmd) Run(ctx context.Context) error {
	level := slog.LevelInfo
	if c.Debug {
		level = slog.LevelDebug
	}
	out := os.Stderr
	if c.LogFile != "" {
		f, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	paths, err := daemon.DefaultPaths()
	if err != nil {
		return err
	}
	backend := &lsp.DaemonBackend{Paths: paths}
	defer backend.Close()
	log.Info("toppass lsp: started", "pid", os.Getpid())
	code := lsp.New(os.Stdin, os.Stdout, backend, log).Run(ctx)
	log.Info("toppass lsp: exit", "code", code)
	if code != 0 {
		os.Exit(code)
	}
	return nil
}
