package label

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

// The abuse corpus: candidates that try to reach the host or to cheat the
// tests. Each must be contained, get the right label, and leave the host
// as it was.
func TestAbuseCorpus(t *testing.T) {
	host := t.TempDir()
	secret := filepath.Join(host, "secret.txt")
	if err := os.WriteFile(secret, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TOPPASS_SECRET", "host-env-secret")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	wd, _ := os.Getwd()
	before := listDir(t, host) + listDir(t, wd)

	type want struct {
		status, exec, intent string
	}
	cases := []struct {
		name string
		body string // the body of f(x); the test asserts f(1) == 2
		want want
	}{
		{"read host file", "return open(" + pyq(secret) + ").read()", want{"error", "other", ""}},
		{"read /etc/passwd", "return open('/etc/passwd').read()", want{"error", "other", ""}},
		{"write host file", "open(" + pyq(filepath.Join(host, "new.txt")) + ", 'w').write('x')\n    return 2", want{"error", "other", ""}},
		{"write into the stdlib", "open('/lib/python3.11/evil.py', 'w').write('x')\n    return 2", want{"error", "other", ""}},
		{"path traversal", "return open('../../../../../../etc/passwd').read()", want{"error", "other", ""}},
		{"remove host file", "import os\n    os.remove(" + pyq(secret) + ")\n    return 2", want{"error", "other", ""}},
		{"list / sees only the stdlib", "import os\n    return 2 if os.listdir('/') == ['lib'] else os.listdir('/')", want{"pass", "", ""}},
		{"environment is empty", "import os\n    return 2 + len(os.environ) + ('TOPPASS_SECRET' in str(os.environ))", want{"pass", "", ""}},
		{"socket connect", "import socket\n    s = socket.socket()\n    s.connect(('127.0.0.1', " + itoa(port) + "))\n    return 2", want{"error", "other", ""}},
		{"dns", "import socket\n    return socket.gethostbyname('localhost')", want{"error", "other", ""}},
		{"subprocess", "import subprocess\n    return subprocess.run(['ls'])", want{"error", "other", ""}},
		{"os.system", "import os\n    return os.system('touch " + filepath.Join(host, "pwned") + "')", want{"error", "other", ""}},
		{"ctypes", "import ctypes\n    return ctypes.CDLL(None)", want{"error", "other", ""}},
		{"fork", "import os\n    return os.fork()", want{"error", "other", ""}},
		{"threads", "import threading\n    t = threading.Thread(target=print)\n    t.start()\n    return 2", want{"error", "other", ""}},
		{"stdin input", "return int(input())", want{"error", "EOFError", ""}},
		{"stdin read", "import sys\n    return 2 + len(sys.stdin.read())", want{"pass", "", ""}},
		{"infinite loop", "while True:\n        pass", want{"timeout", "Timeout", ""}},
		{"sleeping", "import time\n    time.sleep(3600)\n    return 2", want{"timeout", "Timeout", ""}},
		{"memory bomb", "return bytearray(1 << 30)", want{"memory", "other", ""}},
		{"growing memory bomb", "l = []\n    while True:\n        l.append(bytearray(8 << 20))", want{"memory", "other", ""}},
		{"huge int to str", "return str(10 ** 5000)", want{"error", "ValueError", ""}},
		{"deep recursion", "def g(n):\n        return g(n + 1) + 1\n    return g(0)", want{"error", "other", ""}},
		{"deep C recursion", "import sys, functools\n    sys.setrecursionlimit(10 ** 7)\n    @functools.lru_cache(None)\n    def g(n):\n        return g(n + 1) + 1 if n < 10 ** 6 else 0\n    return g(0)", want{"error", "other", ""}},
		{"output flood", "while True:\n        print('spam' * 1000)", want{"output_limit", "other", ""}},
		{"stderr flood", "import sys\n    while True:\n        sys.stderr.write('spam' * 1000)", want{"output_limit", "other", ""}},
		{"sys.exit(0)", "import sys\n    sys.exit(0)", want{"error", "other", ""}},
		{"exit()", "exit()", want{"error", "other", ""}},
		{"raise SystemExit", "raise SystemExit", want{"error", "other", ""}},
		{"os._exit(0)", "import os\n    os._exit(0)", want{"error", "other", ""}},
		{"always-equal object", "class E:\n        def __eq__(self, o):\n            return True\n    return E()", want{"fail", "", "wrong_type"}},
		{"always-equal int subclass", "class E(int):\n        def __eq__(self, o):\n            return True\n        __hash__ = int.__hash__\n    return E(7)", want{"fail", "", "wrong_type"}},
		{"always-equal inside a list", "class E:\n        __eq__ = lambda s, o: True\n    return [E()]", want{"fail", "", "wrong_type"}},
		{"always-equal made by type()", "return type('E', (), {'__eq__': lambda s, o: True})()", want{"fail", "", "wrong_type"}},
		{"always-equal from a stdlib callable", "import functools\n    E = type('E', (), {'__eq__': functools.partial(lambda s, o: True)})\n    return E()", want{"fail", "", "wrong_type"}},
		{"patched assert target", "import builtins\n    builtins.AssertionError = type('X', (Exception,), {})\n    return 3", want{"fail", "", "int_too_large"}},
		{"close stdout", "import os\n    os.close(1)\n    return 2", want{"pass", "", ""}},
	}
	const budget = 250 * time.Millisecond
	sb, err := sandbox.New(context.Background(), sandbox.Config{Timeout: budget, MemoryLimit: 256 << 20, OutputLimit: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	lb := &Labeler{SB: sb}
	p := &dataset.Problem{TaskID: "abuse", Prompt: "def f(x):\n", EntryPoint: "f",
		Test: "def check(candidate):\n    assert candidate(1) == 2\n"}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := "    " + c.body + "\n"
			cand := &dataset.Candidate{TaskID: "abuse", Index: &i, Completion: &code}
			l, err := lb.Label(context.Background(), p, cand)
			if err != nil {
				t.Fatal(err)
			}
			got := want{l.Status, l.ExecError, l.IntentError}
			if got != c.want {
				t.Errorf("got %+v (%s: %s), want %+v", got, l.Exception, l.Message, c.want)
			}
			// Stopped when the budget was spent, well within the backstop.
			if l.Status == "timeout" && (l.Fuel < sandbox.FuelFor(budget) || l.BudgetMS != budget.Milliseconds() ||
				l.DurationMS > float64((sandbox.WallFactor*budget+sandbox.WallSlack).Milliseconds())) {
				t.Errorf("timeout after %.0f ms with fuel %d (budget %d ms)", l.DurationMS, l.Fuel, l.BudgetMS)
			}
		})
	}
	// A good candidate after all that still passes.
	good := "    return x + 1\n"
	n := len(cases)
	l, err := lb.Label(context.Background(), p, &dataset.Candidate{TaskID: "abuse", Index: &n, Completion: &good})
	if err != nil || !l.Passed {
		t.Fatalf("good candidate after the corpus: %+v %v", l, err)
	}

	select {
	case <-accepted:
		t.Error("a candidate connected to a host socket")
	default:
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "host secret" {
		t.Errorf("host file changed: %q %v", b, err)
	}
	if after := listDir(t, host) + listDir(t, wd); after != before {
		t.Errorf("host directories changed:\nbefore %s\nafter  %s", before, after)
	}
}

func listDir(t *testing.T, dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "go-build") || strings.HasPrefix(e.Name(), "toppass-native") {
			continue // other processes' files
		}
		names = append(names, e.Name())
	}
	return dir + ":" + strings.Join(names, ",") + ";"
}

func pyq(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }

func itoa(i int) string { return strconv.Itoa(i) }
