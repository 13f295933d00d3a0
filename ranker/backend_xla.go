//go:build xla

package ranker

// Built with -tags xla, the binary also offers GoMLX's XLA backend
// (PJRT plugins: "xla:cuda" on a GPU machine, "xla:cpu"). It loads the
// plugin with dlopen and needs cgo, so the default build leaves it out and
// stays pure Go.
import _ "github.com/gomlx/gomlx/backends/xla"
