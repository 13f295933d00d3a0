package lsp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// End to end with real editors: each opens a Python file holding
// HumanEval/0's prompt, asks toppass for code actions inside the function,
// runs "generate" (the daemon asks the loopback generator), asks again and
// applies candidate #1; the saved buffer must then hold it.
func runEditor(t *testing.T, name string, args ...string) {
	t.Helper()
	exe, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed: skipping (apt install neovim emacs-nox elpa-eglot)", name)
	}
	w := newWorld(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "he0.py")
	if err := os.WriteFile(file, []byte(humanEval0), 0o600); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(dir, "result.py")
	plugin, _ := filepath.Abs(filepath.Join("..", "editors", map[string]string{"nvim": "neovim", "emacs": "emacs"}[name]))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Env = append(cmd.Env, "TOPPASS_E2E_FILE="+file, "TOPPASS_E2E_RESULT="+result,
		"TOPPASS_E2E_BIN="+binary, "TOPPASS_E2E_PLUGIN="+plugin, "HOME="+dir)
	out, err := cmd.CombinedOutput()
	logb, _ := os.ReadFile(result + ".log")
	srvLog, _ := os.ReadFile(result + ".server.log")
	if err != nil || string(logb) != "ok" {
		t.Fatalf("%s: %v\n%s\nresult: %s\nserver log:\n%s", name, err, out, logb, srvLog)
	}
	got, err := os.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(humanEval0, "    pass\n", goodBody, 1)
	if string(got) != want {
		t.Fatalf("%s: the buffer holds\n%s\nwant\n%s", name, got, want)
	}
}

func TestNeovimEndToEnd(t *testing.T) {
	script, _ := filepath.Abs("testdata/nvim_e2e.lua")
	runEditor(t, "nvim", "--headless", "--clean", "-c", "luafile "+script)
}

func TestEmacsEglotEndToEnd(t *testing.T) {
	script, _ := filepath.Abs("testdata/emacs_e2e.el")
	runEditor(t, "emacs", "--batch", "-Q", "-l", script)
}

// Helix is not packaged here: its configuration must parse and run
// `toppass lsp` for Python.
func TestHelixConfig(t *testing.T) {
	var cfg struct {
		LanguageServer map[string]struct {
			Command string         `toml:"command"`
			Args    []string       `toml:"args"`
			Config  map[string]any `toml:"config"`
		} `toml:"language-server"`
		Language []struct {
			Name            string   `toml:"name"`
			LanguageServers []string `toml:"language-servers"`
		} `toml:"language"`
	}
	md, err := toml.DecodeFile("../editors/helix/languages.toml", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Undecoded()) > 0 {
		t.Fatalf("unknown keys: %v", md.Undecoded())
	}
	ls, ok := cfg.LanguageServer["toppass"]
	if !ok || ls.Command != "toppass" || strings.Join(ls.Args, " ") != "lsp" || ls.Config["topK"] == nil {
		t.Fatalf("language server: %+v", cfg.LanguageServer)
	}
	found := false
	for _, l := range cfg.Language {
		for _, s := range l.LanguageServers {
			found = found || (l.Name == "python" && s == "toppass")
		}
	}
	if !found {
		t.Fatal("python does not use toppass")
	}
	// The settings it sends are ones the server takes.
	s := DefaultSettings()
	raw := []byte(`{"topK": 3, "generate": 10, "method": "hybrid"}`)
	if err := s.merge(raw); err != nil {
		t.Fatal(err)
	}
}

// The VS Code extension compiles, its tests pass, and it packages to a
// .vsix (npm ci installs the pinned dependencies from package-lock.json).
func TestVSCodeExtension(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the VS Code extension build needs npm and the network")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("npm is not installed (.ci/run installs it)")
		}
		t.Skip("npm is not installed: skipping the VS Code extension build")
	}
	dir, _ := filepath.Abs("../editors/vscode")
	vsix := filepath.Join(dir, "toppass.vsix")
	os.Remove(vsix)
	for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"test"}, {"run", "package"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "test" && !strings.Contains(string(out), "# fail 0") {
			t.Fatalf("npm test:\n%s", out)
		}
	}
	st, err := os.Stat(vsix)
	if err != nil || st.Size() < 10000 {
		t.Fatalf("no .vsix: %v", err)
	}
}
