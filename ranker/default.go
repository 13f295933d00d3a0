package ranker

import (
	_ "embed"

	"github.com/gomlx/gomlx/backends"
)

// The shipped model (see docs/model-card.md): trained by `make model` on
// everything in ../shared/data, committed compressed.
var (
	//go:embed default/config.json
	defaultConfig []byte
	//go:embed default/tokenizer.json
	defaultTokenizer []byte
	//go:embed default/weights.bin.zst
	defaultWeights []byte
)

// LoadDefault loads the shipped model.
func LoadDefault(backend backends.Backend) (*Model, error) {
	return FromBytes(backend, defaultConfig, defaultTokenizer, defaultWeights)
}
