package daemon

import (
	"fmt"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/store"
)

// The API: JSON-RPC 2.0 over the Unix socket (Paths.Socket), messages
// framed with Content-Length headers as in LSP. docs/daemon.md lists the
// methods; these are their parameters and results.

// Methods.
const (
	MethodStatus       = "status"
	MethodWatchAdd     = "watch/add"
	MethodWatchRemove  = "watch/remove"
	MethodWatchList    = "watch/list"
	MethodLabel        = "label"
	MethodRank         = "rank"
	MethodGenerate     = "generate"
	MethodTrain        = "train"
	MethodModelList    = "model/list"
	MethodModelUse     = "model/use"
	MethodExportLabels = "export/labels"
	MethodLogs         = "logs"
	MethodSubscribe    = "subscribe"
	MethodShutdown     = "shutdown"

	// Notifications to subscribed clients.
	NotifyProgress = "progress"
	NotifyLog      = "log"
)

// Status is the answer to status.
type Status struct {
	PID      int          `json:"pid"`
	Version  string       `json:"version"`
	Started  int64        `json:"started"` // unix ms
	Socket   string       `json:"socket"`
	Store    string       `json:"store"`
	Labels   int          `json:"labels"`  // labels stored
	Pending  int          `json:"pending"` // candidates waiting for a label
	Model    string       `json:"model"`   // the model in use
	Budget   string       `json:"budget"`  // time budget per candidate
	Workers  int          `json:"workers"`
	Jobs     []*store.Job `json:"jobs"` // queued and running, then the last finished
	Ranking  int          `json:"ranking"`
	Sets     []*store.Set `json:"sets"`
	Errors   []string     `json:"errors,omitempty"` // recent problems that need the user
	LogFile  string       `json:"log_file"`
	Training bool         `json:"training"`
	// DashboardURL is the dashboard's address with its token ("" when it
	// is disabled).
	DashboardURL string `json:"dashboard_url,omitempty"`
	// PPass says which P(pass) model the hybrid's rankings use: the
	// shipped one, a configured file, or a refit to the user's generator.
	PPass string `json:"p_pass"`
}

// DirParams name a folder.
type DirParams struct {
	Dir string `json:"dir"`
}

// LabelParams ask for labels of candidates of one problem.
type LabelParams struct {
	Problem    *dataset.Problem     `json:"problem"`
	Candidates []*dataset.Candidate `json:"candidates"`
}

// RankParams ask for a ranking of candidates of one problem. With no
// candidates and N > 0, the daemon generates N first.
type RankParams struct {
	Problem    *dataset.Problem     `json:"problem"`
	Candidates []*dataset.Candidate `json:"candidates,omitempty"`
	N          int                  `json:"n,omitempty"`
	// Method: hybrid (default), neural, lexical, exec.
	Method string `json:"method,omitempty"`
	// Tests are extra asserts (e.g. model-written), used as CodeT evidence.
	Tests []string `json:"tests,omitempty"`
	// Endpoint and Model override the generator's base URL and model
	// (an editor's settings).
	Endpoint string `json:"endpoint,omitempty"`
	Model    string `json:"model,omitempty"`
}

// Ranked is one candidate in a ranking, best first.
type Ranked struct {
	Index          int     `json:"index"`
	Rank           int     `json:"rank"` // 1 = best
	Score          float64 `json:"score"`
	PPass          float64 `json:"p_pass"` // P(pass): the neural ranker's (neural), from all the evidence (hybrid: hybrid.Calibration)
	Fault          string  `json:"fault,omitempty"`
	ErrorLine      int     `json:"error_line,omitempty"`
	ExamplesPassed int     `json:"examples_passed"`
	Examples       int     `json:"examples"`
	TestsPassed    int     `json:"tests_passed"`
	Tests          int     `json:"tests"`
	Agreement      float64 `json:"agreement"`
	Cluster        int     `json:"cluster"`
	// Behaviour is the share of candidates that behaved as this one on
	// the examples' and toppass's own inputs (weighted; see
	// execrank.Behaviour); Inputs how many inputs counted.
	Behaviour   float64 `json:"behaviour,omitempty"`
	Inputs      int     `json:"inputs,omitempty"`
	SyntaxError bool    `json:"syntax_error,omitempty"`
	Undefined   int     `json:"undefined_names,omitempty"`
	Code        string  `json:"code"`
	// Features are the hybrid's evidence as P(pass) reads it
	// (hybrid.FeatureNames): what a refit of P(pass) learns from.
	Features []float64 `json:"features,omitempty"`
}

// BehaviourNote says in words how this candidate behaved next to the
// others ("" when no input counted): the dashboard and the editor show it.
func (r *Ranked) BehaviourNote() string {
	if r.Inputs == 0 {
		return ""
	}
	return fmt.Sprintf("behaves as %.0f %% of the candidates on %d inputs", 100*r.Behaviour, r.Inputs)
}

// RankResult is the answer to rank.
type RankResult struct {
	Method    string   `json:"method"`
	Model     string   `json:"model"`
	Cached    bool     `json:"cached"`
	Generated int      `json:"generated,omitempty"`
	Ranked    []Ranked `json:"ranked"`
}

// GenerateParams ask the configured generator for candidates.
type GenerateParams struct {
	Problem  *dataset.Problem `json:"problem"`
	N        int              `json:"n,omitempty"`
	Endpoint string           `json:"endpoint,omitempty"` // overrides the configured base URL
	Model    string           `json:"model,omitempty"`    // overrides the configured model
}

// GenerateResult holds generated candidates.
type GenerateResult struct {
	Candidates []*dataset.Candidate `json:"candidates"`
}

// ModelParams name a model.
type ModelParams struct {
	ID string `json:"id"`
}

// ExportParams page through the stored labels.
type ExportParams struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// ExportResult is one page; Next is 0 after the last.
type ExportResult struct {
	Labels []*dataset.Label `json:"labels"`
	Next   int              `json:"next"`
}

// LogsParams ask for the last lines of the log.
type LogsParams struct {
	Lines int `json:"lines"`
}

// LogsResult holds them, as written (JSON lines).
type LogsResult struct {
	Lines []string `json:"lines"`
}

// SubscribeParams choose notifications.
type SubscribeParams struct {
	Progress bool `json:"progress"`
	Logs     bool `json:"logs"`
}

// Progress is a job's progress notification.
type Progress struct {
	Job   int64  `json:"job"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Note  string `json:"note,omitempty"`
}
