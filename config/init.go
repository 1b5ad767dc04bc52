package config

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kazzle/kazzle/secret"
)

//go:embed starter/kazzle.config.ts starter/kazzle-env.d.ts
var starter embed.FS

// TypesFile is the declaration file kazzle init writes beside the config: it declares the
// module "kazzle", so editors and tsc type-check kazzle.config.ts.
const TypesFile = "kazzle-env.d.ts"

// Types returns the contents of TypesFile.
func Types() []byte {
	b, _ := starter.ReadFile("starter/" + TypesFile)
	return b
}

// Init writes a starter kazzle.config.ts for collection (default: a slug of the folder's
// name) and TypesFile into dir, and returns the names it wrote. With typesOnly it
// (re)writes only TypesFile. It refuses, writing nothing, when dir already has a config.
func Init(dir, collection string, typesOnly bool) ([]string, error) {
	typesPath := filepath.Join(dir, TypesFile)
	if typesOnly {
		return []string{TypesFile}, os.WriteFile(typesPath, Types(), 0o644)
	}
	if existing, err := Find(dir); err == nil {
		return nil, fmt.Errorf("%s already exists; kazzle init --types rewrites only %s", existing, TypesFile)
	} else if !errors.Is(err, ErrNoConfig) {
		return nil, err
	}
	if collection == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		collection = slugOf(filepath.Base(abs))
	}
	if err := secret.ValidateSlug("collection", collection); err != nil {
		return nil, fmt.Errorf("%w; pass --collection", err)
	}
	tmpl, err := fs.ReadFile(starter, "starter/"+ConfigFiles[0])
	if err != nil {
		return nil, err
	}
	cfg := strings.ReplaceAll(string(tmpl), "{{COLLECTION}}", collection)
	f, err := os.OpenFile(filepath.Join(dir, ConfigFiles[0]), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(cfg); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(typesPath, Types(), 0o644); err != nil {
		return nil, err
	}
	return []string{ConfigFiles[0], TypesFile}, nil
}

// slugOf makes a collection slug of a folder name: lower case, runs of other characters
// as one "-".
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimSuffix(s[:63], "-")
	}
	return s
}
