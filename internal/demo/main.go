// Command demo shows what kazzle's foundation does today, on the embedded defaults: a
// local vault (SQLite and a local root key) in a temporary folder, secrets from
// fixtures/demo, environments resolved with masked output, a check that no plaintext
// reached the database files, and a re-wrap of the data keys under AWS KMS, served by
// internal/awsfake on loopback. `make demo` runs it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kazzle/kazzle/internal/awsfake"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/awskms"
	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/sqlite"
)

type fixture struct {
	Collection   string   `json:"collection"`
	Environments []string `json:"environments"`
	Secrets      []struct {
		Name   string            `json:"name"`
		Type   secret.Type       `json:"type"`
		Env    string            `json:"env"`
		Fields map[string]string `json:"fields"`
	} `json:"secrets"`
}

func main() {
	fixturePath := flag.String("fixture", "fixtures/demo/vault.json", "secrets to load")
	keep := flag.Bool("keep", false, "keep the temporary data folder")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *fixturePath, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo: error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, fixturePath string, keep bool) error {
	step := func(format string, args ...any) { fmt.Fprintf(out, "\n==> "+format+"\n", args...) }
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		return err
	}
	var fx fixture
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		return fmt.Errorf("%s: %w", fixturePath, err)
	}
	dir, err := os.MkdirTemp("", "kazzle-demo-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(out, "data folder (kept):", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	step("a local vault in %s: SQLite and a root key file (mode 0600)", dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "kazzle.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	local, err := localkms.Open(filepath.Join(dir, "root.key"))
	if err != nil {
		return err
	}
	v := vault.New(store, local, vault.Options{})
	actor := vault.Actor{Name: "demo", ClientAddr: "127.0.0.1"}
	space, err := v.CreateSpace(ctx, actor, "demo")
	if err != nil {
		return err
	}
	if _, err := v.CreateCollection(ctx, actor, space.ID, fx.Collection, ""); err != nil {
		return err
	}
	for _, e := range fx.Environments {
		if _, err := v.CreateEnvironment(ctx, actor, space.ID, fx.Collection, e); err != nil {
			return err
		}
	}

	// ${ref:NAME.field} in the fixture stands for a reference to a secret loaded earlier.
	ids := map[string]string{}
	var plaintexts []string
	for _, s := range fx.Secrets {
		fields := map[string]string{}
		for f, val := range s.Fields {
			for name, id := range ids {
				val = strings.ReplaceAll(val, "${ref:"+name+".", "${secret."+id+".")
			}
			fields[f] = val
			if !secret.HasReferences(val) {
				plaintexts = append(plaintexts, val)
			}
		}
		m, err := v.CreateSecret(ctx, actor, vault.SecretInput{SpaceID: space.ID, Collection: fx.Collection, Environment: s.Env, Name: s.Name, Type: s.Type, Fields: fields})
		if err != nil {
			return err
		}
		if s.Env == "" {
			ids[s.Name] = m.ID
		}
		tag := s.Env
		if tag == "" {
			tag = "(untagged)"
		}
		fmt.Fprintf(out, "    stored %-28s %-6s %-10s version %d  id %s\n", s.Name, m.Type, tag, m.Version, m.ID)
	}

	for _, env := range fx.Environments {
		step("resolve %s/%s: untagged + tagged merged, references expanded, TOTP computed (values masked)", fx.Collection, env)
		vars, err := v.Resolve(ctx, actor, vault.ResolveRequest{SpaceID: space.ID, Collection: fx.Collection, Environment: env})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, vr := range vars {
			fmt.Fprintf(tw, "    %s\t%s\t(${secret.%s.%s})\n", vr.Name, secret.Mask(vr.Value), vr.SecretID[:8]+"…", vr.Field)
		}
		tw.Flush()
	}

	step("scan the database files for the %d plaintext values", len(plaintexts))
	files, _ := filepath.Glob(filepath.Join(dir, "kazzle.db*"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found := 0
		for _, p := range plaintexts {
			if bytes.Contains(data, []byte(p)) {
				found++
			}
		}
		fmt.Fprintf(out, "    %-16s %8d bytes  plaintexts found: %d\n", filepath.Base(path), len(data), found)
		if found > 0 {
			return fmt.Errorf("%s holds plaintext", path)
		}
	}

	step("re-wrap the data key under AWS KMS (internal/awsfake on loopback, real aws-sdk-go-v2 client, SigV4 checked)")
	fake, err := awsfake.Start(awsfake.Options{})
	if err != nil {
		return err
	}
	defer fake.Close()
	if _, err := fake.CreateKey("kazzle-demo"); err != nil {
		return err
	}
	akid, secret := fake.Credentials()
	client := kms.New(kms.Options{Region: fake.Region(), BaseEndpoint: aws.String(fake.URL), Credentials: credentials.NewStaticCredentialsProvider(akid, secret, "")})
	moved, err := v.Rewrap(ctx, actor, awskms.New(client, "alias/kazzle-demo"))
	if err != nil {
		return err
	}
	wrapped, _ := store.SpaceKey(ctx, space.ID)
	fmt.Fprintf(out, "    moved %d data key(s); now wrapped by %s\n", moved, wrapped.KeyID)

	cold := vault.New(store, awskms.New(client, "alias/kazzle-demo"), vault.Options{})
	for i := 0; i < 100; i++ {
		if _, err := cold.Resolve(ctx, actor, vault.ResolveRequest{SpaceID: space.ID, Collection: fx.Collection, Environment: "prod"}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "    100 resolves on a cold vault made %d KMS Decrypt call(s): the data key is cached\n", fake.Calls("kms:Decrypt"))

	step("the audit trail: every change and every read of plaintext, with ids and names, never values")
	events, err := v.Audit(ctx, vault.AuditQuery{SpaceID: space.ID, Limit: 1000})
	if err != nil {
		return err
	}
	counts := map[string]int{}
	var order []string
	for i := len(events) - 1; i >= 0; i-- {
		if counts[events[i].Action] == 0 {
			order = append(order, events[i].Action)
		}
		counts[events[i].Action]++
	}
	for _, action := range order {
		fmt.Fprintf(out, "    %-20s %4d event(s)\n", action, counts[action])
	}
	if len(events) > 0 {
		t, _ := json.Marshal(events[0].Target)
		fmt.Fprintf(out, "    newest: %s by %s from %s: %s\n", events[0].Action, events[0].ActorName, events[0].ClientAddr, t)
	}
	fmt.Fprintln(out, "\ndemo: done.")
	return nil
}
