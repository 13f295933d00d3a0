package ranker

import (
	"embed"
	"errors"
	"io/fs"

	"github.com/gomlx/gomlx/backends"
)

// The shipped model (see docs/model-card.md): trained by `make model`,
// committed compressed: config, tokenizer, weights, and the weights of the
// ensemble's further members (MemberFile).
//
//go:embed default/config.json default/tokenizer.json default/*.bin.zst
var defaultFS embed.FS

// LoadDefault loads the shipped model.
func LoadDefault(backend backends.Backend) (*Model, error) {
	read := func(name string) []byte {
		b, err := defaultFS.ReadFile("default/" + name)
		if err != nil {
			panic(err) // embedded at build time
		}
		return b
	}
	var members [][]byte
	for i := 1; ; i++ {
		b, err := defaultFS.ReadFile("default/" + MemberFile(i))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		members = append(members, b)
	}
	return FromBytes(backend, read(ConfigFile), read(TokenizerFile), read(WeightsFile), members...)
}
