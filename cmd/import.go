package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) secretsImportCommand() *cobra.Command {
	var co common
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE|- [--env=ENV] [--collection=NAME] [--dry-run]",
		Short: "create or update string secrets from a .env file or a JSON object",
		Long: "Reads NAME=value lines as node's dotenv reads a .env file (what kazzle secrets export\n" +
			"writes as dotenv reads back exactly), or a JSON object of names and string values, and\n" +
			"creates or updates one string secret per name, untagged or tagged to --env. Every name\n" +
			"and value is checked before anything is written; errors give line numbers, never a\n" +
			"line's text. An empty value (FOO=) makes an empty secret. --dry-run shows, masked,\n" +
			"what would be created or updated, and writes nothing.",
		Example: "  kazzle secrets import .env --collection app --env dev --dry-run\n" +
			"  kazzle secrets export --env dev --format json | kazzle secrets import - --env staging",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.secretsImport(cmd.Context(), &co, args[0], dryRun)
		},
	}
	cmd.Args = exactArgs(1)
	c.apiFlags(cmd, &co, false)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change, values masked, and write nothing")
	return cmd
}

// importEntry is one variable of an imported file.
type importEntry struct {
	name, value string
	line        int // 0 in a JSON object
}

// readImport reads a JSON object of strings, or else a .env file as node's dotenv
// does. Names are checked by the rules of secret names; errors never quote a value.
func readImport(data []byte) ([]importEntry, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text")
	}
	var entries []importEntry
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		var err error
		if entries, err = readJSONObject(t); err != nil {
			return nil, err
		}
	} else {
		entries = readDotenvEntries(string(data))
	}
	var problems []string
	for _, e := range entries {
		where := fmt.Sprintf("line %d", e.line)
		if e.line == 0 {
			where = "a name"
		}
		if err := secret.ValidateName(e.name); err != nil {
			problems = append(problems, fmt.Sprintf("%s: the name is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*, at most %d characters)", where, secret.MaxNameLen))
			continue
		}
		if err := secret.ValidateExports(e.name, secret.TypeString); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := secret.ValidateValue(e.value); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", e.name, err))
		}
		if len(e.value) > secret.MaxFieldSize {
			problems = append(problems, fmt.Sprintf("%s: %d bytes, the limit is %d", e.name, len(e.value), secret.MaxFieldSize))
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return entries, nil
}

// readDotenvEntries is parseDotenv with the line each name is last set on.
func readDotenvEntries(src string) []importEntry {
	norm := strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
	names, values := parseDotenv(src)
	lines := map[string]int{}
	for _, m := range dotenvLine.FindAllStringSubmatchIndex(norm, -1) {
		lines[norm[m[2]:m[3]]] = strings.Count(norm[:m[2]], "\n") + 1
	}
	entries := make([]importEntry, len(names))
	for i, n := range names {
		entries[i] = importEntry{name: n, value: values[n], line: lines[n]}
	}
	return entries
}

// readJSONObject reads {"NAME": "value", …}, keeping the names' order.
func readJSONObject(data []byte) ([]importEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("the file is not a JSON object")
	}
	var entries []importEntry
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the JSON object does not parse at byte %d", dec.InputOffset())
		}
		name, _ := tok.(string)
		var value any
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("the JSON object does not parse at byte %d", dec.InputOffset())
		}
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("%s: the value is not a string (a JSON object of names and string values is read)", secret.Excerpt(name))
		}
		if i, dup := index[name]; dup {
			entries[i].value = s
			continue
		}
		index[name] = len(entries)
		entries = append(entries, importEntry{name: name, value: s})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("the JSON object does not parse at byte %d", dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the file holds more than one JSON object")
	}
	return entries, nil
}

// maxImportSize bounds the file secrets import reads: 256 values of the largest size.
const maxImportSize = 16 << 20

func (c *cli) secretsImport(ctx context.Context, co *common, file string, dryRun bool) error {
	in := c.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, maxImportSize+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxImportSize {
		return usagef("%s: over %d MiB: split it, or import the secrets that belong together", file, maxImportSize>>20)
	}
	entries, err := readImport(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	existing, err := client.Secrets(ctx, co.collection, co.env)
	if err != nil {
		return err
	}
	current := map[string]api.Secret{}
	for _, s := range existing {
		if s.Environment == co.env {
			current[s.Name] = s
		}
	}
	where := co.collection + " (untagged)"
	if co.env != "" {
		where = co.collection + "/" + co.env
	}
	var t *table
	if dryRun {
		t = newTable(c.stdout, "ACTION", "NAME", "VALUE")
	}
	// Every entry is checked before the first write, so a refusal changes nothing.
	for _, e := range entries {
		if s, exists := current[e.name]; exists && s.Type != string(secret.TypeString) {
			return usagef("%s is a %s secret in %s: import writes string secrets; delete it first, or leave it out of the file", e.name, s.Type, where)
		}
	}
	created, updated := 0, 0
	for _, e := range entries {
		s, exists := current[e.name]
		fields := map[string]string{secret.FieldValue: e.value}
		switch {
		case dryRun:
			action := "create"
			if exists {
				action = "update"
			}
			t.row(action, e.name, secret.Mask(e.value))
			continue
		case exists:
			if _, err := client.UpdateSecret(ctx, s.ID, api.UpdateSecretRequest{Version: s.Version, Fields: fields}); err != nil {
				return fmt.Errorf("update %s: %w", e.name, err)
			}
			updated++
		default:
			if _, err := client.CreateSecret(ctx, api.CreateSecretRequest{Collection: co.collection, Environment: co.env, Name: e.name, Type: string(secret.TypeString), Fields: fields}); err != nil {
				return fmt.Errorf("create %s: %w", e.name, err)
			}
			created++
		}
	}
	if dryRun {
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "kazzle: dry run: nothing written to %s\n", where)
		return nil
	}
	fmt.Fprintf(c.stderr, "kazzle: imported into %s: %d created, %d updated\n", where, created, updated)
	return nil
}
