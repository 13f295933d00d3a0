package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
)

// Config is $XDG_CONFIG_HOME/toppass/config.toml. Every key is optional;
// docs/daemon.md lists them with their defaults. An unknown key or a bad
// value is an error that names the file and the line.
type Config struct {
	// Workers is how many candidates run in the sandbox at once (0: one
	// per CPU). It is the daemon's CPU budget: labelling, ranking and
	// training share it, ranking first.
	Workers int `toml:"workers"`
	// Timeout is the time budget per candidate in seconds of native
	// CPython; Memory the memory limit.
	Timeout Duration `toml:"timeout"`
	Memory  ByteSize `toml:"memory"`
	// Watch lists folders watched from the start, beside those added with
	// `toppass watch`.
	Watch []string `toml:"watch"`
	// Debounce is how long a folder must be quiet before it is read again.
	Debounce Duration `toml:"debounce"`
	// SelfInputs is how many inputs a ranking makes per function-style
	// problem for the behaviour evidence (0: none).
	SelfInputs int `toml:"self_inputs"`
	// Calibration is a P(pass) model for the hybrid's rankings, fit on
	// labelled sets of the user's own (toppass generalization
	// --save-calibration); "" is the shipped one, refit to the user's
	// labels when PassRefit says so. Read when the configuration is.
	Calibration string `toml:"calibration"`
	calibration *hybrid.Fusion
	// PassRefit is the policy of refitting the shipped P(pass) to the
	// user's generator (calibration.go); off when Calibration is set.
	PassRefit PassRefitConfig `toml:"pass_refit"`

	Generator GeneratorConfig `toml:"generator"`
	Finetune  FinetuneConfig  `toml:"finetune"`
	Dashboard DashboardConfig `toml:"dashboard"`
	Log       LogConfig       `toml:"log"`
}

// GeneratorConfig is an OpenAI-compatible server that writes candidates.
type GeneratorConfig struct {
	BaseURL     string   `toml:"base_url"` // default $OPENAI_BASE_URL
	APIKey      string   `toml:"api_key"`  // default $OPENAI_API_KEY
	Model       string   `toml:"model"`
	Chat        bool     `toml:"chat"` // /v1/chat/completions, code from fenced blocks
	N           int      `toml:"n"`
	Temperature float64  `toml:"temperature"`
	MaxTokens   int      `toml:"max_tokens"`
	Stop        []string `toml:"stop"`
	Timeout     Duration `toml:"timeout"`
	Retries     int      `toml:"retries"`
}

// PassRefitConfig is the policy of refitting P(pass) on the user's labels.
type PassRefitConfig struct {
	Enabled bool `toml:"enabled"`
	// MinNewProblems is how many problems labelled since the last refit
	// start another.
	MinNewProblems int `toml:"min_new_problems"`
}

// FinetuneConfig is the policy of fine-tuning on the user's problems.
type FinetuneConfig struct {
	Enabled bool `toml:"enabled"`
	// MinNewProblems is how many newly labelled problems with both passing
	// and failing candidates start a fine-tune.
	MinNewProblems int `toml:"min_new_problems"`
	Steps          int `toml:"steps"`
	// ReplayProblems is the slice of the shipped training data mixed in,
	// so that the model does not forget it.
	ReplayProblems int `toml:"replay_problems"`
	// Replay names labelled sets, "problems,candidates,labels" each, that
	// the replay slice is drawn from.
	Replay []string `toml:"replay"`
	// Backend is the GoMLX backend: auto (XLA on a GPU when the binary has
	// it and one answers, else go), go, xla:cuda, xla:cpu.
	Backend string `toml:"backend"`
}

// DashboardConfig is the local web dashboard (docs/dashboard.md).
type DashboardConfig struct {
	Enabled bool `toml:"enabled"`
	// Port on 127.0.0.1; when it is taken the next ten are tried, then
	// any free one. 0: any free port.
	Port int `toml:"port"`
	// Methods are the ranking methods every set is evaluated with in the
	// background (neural, hybrid, lexical); empty: no evaluations.
	Methods []string `toml:"methods"`
}

// LogConfig sets the log file's rotation and level.
type LogConfig struct {
	MaxMB int    `toml:"max_mb"`
	Keep  int    `toml:"keep"`
	Level string `toml:"level"`
}

// DefaultConfig is the configuration with no file.
func DefaultConfig() Config {
	return Config{
		Timeout:    Duration(5 * time.Second),
		Memory:     512 << 20,
		Debounce:   Duration(300 * time.Millisecond),
		SelfInputs: execrank.SelfInputsDefault,
		Generator: GeneratorConfig{N: 10, Temperature: 0.8, MaxTokens: 512,
			Stop:    []string{"\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#"},
			Timeout: Duration(120 * time.Second), Retries: 3},
		Finetune:  FinetuneConfig{Enabled: true, MinNewProblems: 20, Steps: 150, ReplayProblems: 100, Backend: "auto"},
		PassRefit: PassRefitConfig{Enabled: true, MinNewProblems: 20},
		Dashboard: DashboardConfig{Enabled: true, Port: 7340, Methods: []string{"neural", "hybrid", "lexical"}},
		Log:       LogConfig{MaxMB: 10, Keep: 3, Level: "info"},
	}
}

// LoadConfig reads path over the defaults; a missing file is the defaults.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, cfg.finish("", nil)
	}
	if err != nil {
		return cfg, err
	}
	md, err := toml.Decode(string(text), &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return cfg, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		if m := tomlLine.FindStringSubmatch(err.Error()); m != nil {
			return cfg, fmt.Errorf("%s:%s: %s", path, m[1], m[2])
		}
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		k := keys[0]
		return cfg, fmt.Errorf("%s:%d: unknown key %q (docs/daemon.md lists the keys)", path, keyLine(string(text), k), k.String())
	}
	return cfg, cfg.finish(path, text)
}

// finish checks values and fills what comes from the environment.
func (c *Config) finish(path string, text []byte) error {
	bad := func(key, msg string) error {
		return fmt.Errorf("%s:%d: %s: %s", path, keyLine(string(text), strings.Split(key, ".")), key, msg)
	}
	switch {
	case c.Workers < 0:
		return bad("workers", "must be 0 (one per CPU) or more")
	case c.Timeout <= 0:
		return bad("timeout", "must be positive")
	case c.SelfInputs < 0 || c.SelfInputs > 1000:
		return bad("self_inputs", "must be 0 (none) to 1000")
	case c.Memory < 32<<20:
		return bad("memory", "must be at least 32MiB")
	case c.Generator.N < 1 || c.Generator.N > 100:
		return bad("generator.n", "must be 1 to 100")
	case c.Generator.Temperature < 0 || c.Generator.Temperature > 2:
		return bad("generator.temperature", "must be 0 to 2")
	case c.Generator.MaxTokens < 1:
		return bad("generator.max_tokens", "must be positive")
	case c.Generator.Retries < 0:
		return bad("generator.retries", "must be 0 or more")
	case c.Finetune.MinNewProblems < 1:
		return bad("finetune.min_new_problems", "must be positive")
	case c.Finetune.Steps < 1:
		return bad("finetune.steps", "must be positive")
	case c.PassRefit.MinNewProblems < 1:
		return bad("pass_refit.min_new_problems", "must be positive")
	case c.Dashboard.Port < 0 || c.Dashboard.Port > 65535:
		return bad("dashboard.port", "must be 0 (any free port) to 65535")
	case c.Log.MaxMB < 1 || c.Log.Keep < 0:
		return bad("log", "max_mb must be positive and keep 0 or more")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error")
	}
	for _, m := range c.Dashboard.Methods {
		if m != "neural" && m != "hybrid" && m != "lexical" {
			return bad("dashboard.methods", fmt.Sprintf("unknown method %q (neural, hybrid, lexical)", m))
		}
	}
	for i, w := range c.Watch {
		var ok bool
		if c.Watch[i], ok = absPath(w); !ok {
			return bad("watch", fmt.Sprintf("%q is not an absolute path", w))
		}
	}
	if c.Calibration != "" {
		path, ok := absPath(c.Calibration)
		if !ok {
			return bad("calibration", fmt.Sprintf("%q is not an absolute path", c.Calibration))
		}
		cal, err := hybrid.Load(path)
		if err != nil {
			return bad("calibration", err.Error())
		}
		c.calibration = cal
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.Generator.BaseURL == "" {
		c.Generator.BaseURL = os.Getenv("OPENAI_BASE_URL")
	}
	if c.Generator.APIKey == "" {
		c.Generator.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	return nil
}

var tomlLine = regexp.MustCompile(`^toml: line (\d+) (.*)$`)

// keyLine finds the line of key in a TOML text (0 when not found): the
// first line that sets its last part, inside its table.
func keyLine(text string, key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	table := strings.Join(key[:len(key)-1], ".")
	name := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key[len(key)-1]) + `"?\s*=`)
	header := regexp.MustCompile(`^\s*\[\s*([^\]]*?)\s*\]`)
	cur := ""
	for i, line := range strings.Split(text, "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if cur == strings.Join(key, ".") {
				return i + 1
			}
			continue
		}
		if cur == table && name.MatchString(line) {
			return i + 1
		}
	}
	return 0
}

// Duration is a TOML string such as "5s" or "300ms".
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (examples: 5s, 300ms, 2m)", string(b))
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// ByteSize is a size such as 512MiB, 1GiB, 64M or a plain number of
// bytes (in config.toml and on the command line).
type ByteSize int64

func (s *ByteSize) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("invalid size %q (examples: 512MiB, 1GiB, 1048576)", string(b))
	}
	*s = ByteSize(n * float64(mult))
	return nil
}

func (s ByteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(s), 10)), nil }

// absPath is p with a leading ~/ expanded; false when p is relative.
func absPath(p string) (string, bool) {
	if filepath.IsAbs(p) {
		return p, true
	}
	home, err := os.UserHomeDir()
	if strings.HasPrefix(p, "~/") && err == nil {
		return filepath.Join(home, p[2:]), true
	}
	return p, false
}
