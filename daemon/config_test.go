package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/hybrid"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigDefaultsAndValues(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || cfg.Workers < 1 || time.Duration(cfg.Timeout) != 5*time.Second || !cfg.Finetune.Enabled || cfg.SelfInputs != 24 {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = LoadConfig(writeConfig(t, "workers = 3\ntimeout = \"2s\"\nmemory = \"256MiB\"\n\n[generator]\nmodel = \"m\"\nn = 5\n\n[finetune]\nmin_new_problems = 4\n"))
	if err != nil || cfg.Workers != 3 || time.Duration(cfg.Timeout) != 2*time.Second || cfg.Memory != 256<<20 ||
		cfg.Generator.Model != "m" || cfg.Generator.N != 5 || cfg.Finetune.MinNewProblems != 4 {
		t.Fatalf("values: %+v %v", cfg, err)
	}
}

// Bad configuration names the file and the line.
func TestConfigErrors(t *testing.T) {
	for text, want := range map[string]string{
		"workers = 2\nworkres = 3\n":                     ":2: unknown key \"workres\"",
		"[generator]\nmodel = \"x\"\ntemprature = 0.5\n": ":3: unknown key \"generator.temprature\"",
		"timeout = \"5 seconds\"\n":                      ":1:",
		"workers = \"two\"\n":                            ":1:",
		"workers = 1\n[log]\nlevel = \"loud\"\n":         ":3: log.level",
		"workers = -1\n":                                 ":1: workers",
		"watch = [\"relative/dir\"]\n":                   ":1: watch",
		"[generator\nmodel = 1\n":                        ":2: expected",
		"\n\n[finetune]\nsteps = 0\n":                    ":4: finetune.steps",
		"[generator]\ntemperature = 9.0\n":               ":2: generator.temperature",
		"workers = 1\nself_inputs = -2\n":                ":2: self_inputs",
		"workers = 1\ncalibration = \"cal.json\"\n":      ":2: calibration",
		"calibration = \"/no/such/cal.json\"\n":          ":1: calibration",
	} {
		path := writeConfig(t, text)
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), path+want) {
			t.Errorf("%q: got %v, want %s%s", text, err, path, want)
		}
	}
}

func TestPathsFollowXDG(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/config")
	t.Setenv("XDG_DATA_HOME", "relative/ignored")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	t.Setenv("XDG_RUNTIME_DIR", "/x/run")
	t.Setenv("HOME", "/home/u")
	p, err := DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	want := Paths{Config: "/x/config/toppass", Data: "/home/u/.local/share/toppass", State: "/home/u/.local/state/toppass",
		Cache: "/x/cache/toppass", Runtime: "/x/run/toppass"}
	if p != want {
		t.Fatalf("%+v, want %+v", p, want)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if p, _ := DefaultPaths(); !strings.Contains(p.Runtime, "toppass-") {
		t.Fatalf("runtime fallback %q", p.Runtime)
	}
}

func TestLockOneInstance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	l, err := acquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if held, pid := lockHeld(path); !held || pid != os.Getpid() {
		t.Fatalf("held %v pid %d", held, pid)
	}
	if _, err := acquireLock(path); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second lock: %v", err)
	}
	l.release()
	if held, _ := lockHeld(path); held {
		t.Fatal("lock still held after release")
	}
	l2, err := acquireLock(path)
	if err != nil {
		t.Fatalf("relock: %v", err)
	}
	l2.release()
}

// A P(pass) model of the user's own replaces the shipped one, and its id
// (in every ranking's cache key) differs from the shipped one's.
func TestConfigCalibration(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || cfg.calibration != nil || !cfg.PassRefit.Enabled {
		t.Fatalf("default: %v %v %+v", cfg.calibration, err, cfg.PassRefit)
	}
	shipped, err := hybrid.Calibration()
	if err != nil {
		t.Fatal(err)
	}
	own := *shipped
	own.Bias += 1
	path := filepath.Join(t.TempDir(), "cal.json")
	if err := own.Save(path); err != nil {
		t.Fatal(err)
	}
	cfg, err = LoadConfig(writeConfig(t, "calibration = \""+path+"\"\n"))
	if err != nil || cfg.calibration == nil || cfg.calibration.Bias != own.Bias {
		t.Fatalf("calibration = %s: %+v %v", path, cfg.calibration, err)
	}
	if cfg.calibration.ID() == hybrid.CalibrationID() {
		t.Error("the user's P(pass) model has the shipped one's id: cached rankings would keep the shipped P(pass)")
	}
}
