//go:build xla

package ranker

// Built with -tags xla, the binary also offers GoMLX's XLA backend
// (PJRT plugins: "xla:cuda" on a GPU machine, "xla:cpu"). It loads the
// plugin with dlopen and needs cgo, so the default build leaves it out and
// stays pure Go.
//
// toppass works offline, so GoMLX's auto-install (a download from GitHub or
// PyPI when no plugin is found) is switched off: the plugin is looked up in
// PJRT_PLUGIN_LIBRARY_PATH (docs/ranker.md says how to point it at the one
// in a JAX installation).
import "github.com/gomlx/gomlx/backends/xla"

func init() { xla.EnableAutoInstall(false) }
