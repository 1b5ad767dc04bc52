package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/vault/postgres"
	"github.com/kazzle/kazzle/vault/sqlite"
)

// kmsCheckTimeout bounds how long server check waits for the key wrapper: long enough
// for the AWS SDK's retries, short enough that an unreachable KMS is an answer.
const kmsCheckTimeout = 30 * time.Second

func (c *cli) serverCheckCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "check --config=FILE",
		Short: "check kazzle-server.hcl and what it names, starting nothing",
		Long: "Checks kazzle-server.hcl as kazzle server --config would read it, and what it names: the TLS\n" +
			"certificate and key, the database (its schema version, and whether the next start will\n" +
			"migrate it; nothing is created or migrated) and the key wrapper (the local key file, or\n" +
			"the AWS KMS key, asked for its ARN). It listens on nothing and changes nothing. Each\n" +
			"part that passes is a line on stdout; the first that fails is the error, and the\n" +
			"status is 1.",
		Example: "  kazzle server check --config /etc/kazzle/kazzle-server.hcl",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.serverCheck(cmd.Context(), configPath)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "server configuration (kazzle-server.hcl)")
	return cmd
}

func (c *cli) serverCheck(ctx context.Context, configPath string) error {
	cfg, err := loadServerConfig(configPath)
	if err != nil {
		return err
	}
	if err := cfg.CheckFiles(); err != nil {
		return err
	}
	retention, err := cfg.Audit.RetentionDuration()
	if err != nil {
		return err
	}
	ok := func(part, format string, args ...any) {
		fmt.Fprintf(c.stdout, "ok  %-9s %s\n", part, fmt.Sprintf(format, args...))
	}
	l := cfg.Listener
	switch {
	case !l.TLSDisable:
		if _, err := tls.LoadX509KeyPair(l.TLSCertFile, l.TLSKeyFile); err != nil {
			return fmt.Errorf("listener \"tcp\": load tls_cert_file %s and tls_key_file %s: %w", l.TLSCertFile, l.TLSKeyFile, err)
		}
		ok("listener", "tcp %s, TLS with %s", l.Address, l.TLSCertFile)
	case l.BehindTLSProxy:
		ok("listener", "tcp %s, plain HTTP behind a TLS-terminating proxy", l.Address)
	default:
		ok("listener", "tcp %s, plain HTTP on loopback", l.Address)
	}

	var version int
	switch st := cfg.Storage; st.Type {
	case "sqlite":
		if version, err = sqlite.Inspect(ctx, st.Path); err != nil {
			return fmt.Errorf("storage \"sqlite\": %w", err)
		}
		switch {
		case version == 0:
			ok("storage", "sqlite %s: no vault yet; the first start creates it", st.Path)
		case version < sqlite.SchemaVersion():
			ok("storage", "sqlite %s, schema version %d: the next start migrates it to %d, which older kazzles refuse (back it up first)", st.Path, version, sqlite.SchemaVersion())
		default:
			ok("storage", "sqlite %s, schema version %d", st.Path, version)
		}
	case "postgres":
		dsn, err := c.postgresURL(st)
		if err != nil {
			return err
		}
		if version, err = postgres.Inspect(ctx, dsn); err != nil {
			return withHint(fmt.Errorf("storage \"postgres\": %w", redactURLPassword(err, dsn)),
				"the server needs its database to start: check the host, port, user and database of the URL")
		}
		switch {
		case version == 0:
			ok("storage", "postgres: reachable; no vault yet, the first start creates its tables")
		case version < postgres.SchemaVersion():
			ok("storage", "postgres: reachable, schema version %d: the next start migrates it to %d, which older kazzles refuse (back it up first)", version, postgres.SchemaVersion())
		default:
			ok("storage", "postgres: reachable, schema version %d", version)
		}
	}

	switch k := cfg.KMS; k.Type {
	case "local":
		if _, err := os.Stat(k.KeyFile); errors.Is(err, fs.ErrNotExist) {
			if version > 0 {
				return fmt.Errorf("kms \"local\": key_file %s does not exist, but the database holds a vault: restore the root key from where you keep it apart (a new key cannot unwrap the vault's data keys)", k.KeyFile)
			}
			ok("kms", "local %s: no key yet; the first start creates it", k.KeyFile)
			break
		}
		if _, err := openKeyWrapper(ctx, k); err != nil {
			return fmt.Errorf("kms \"local\": %w", err)
		}
		ok("kms", "local %s", k.KeyFile)
	case "awskms":
		kctx, cancel := context.WithTimeout(ctx, kmsCheckTimeout)
		defer cancel()
		w, err := openKeyWrapper(kctx, k)
		if err != nil {
			return fmt.Errorf("kms \"awskms\": %w", err)
		}
		arn, err := w.KeyID(kctx)
		if err != nil {
			return withHint(fmt.Errorf("kms \"awskms\": AWS KMS did not describe key %s: %w", k.KeyID, err),
				"the server needs KMS to start: check that KMS is reachable from here (region, AWS_ENDPOINT_URL, a proxy) and that this machine's AWS identity may use the key")
		}
		ok("kms", "awskms %s", arn)
	}
	if retention > 0 {
		ok("audit", "events kept %s", cfg.Audit.Retention)
	} else {
		ok("audit", "events kept forever")
	}
	// Issuers are not asked here: the server reads their discovery documents on first
	// use, and starts whether they answer or not.
	for _, o := range cfg.OIDC {
		ok("oidc", "%s %s, audience %s, %d rules; its issuer is read on first use", o.Name, o.Issuer, o.Audience, len(o.Rules))
	}
	fmt.Fprintf(c.stderr, "kazzle: %s is valid\n", configPath)
	return nil
}

func (c *cli) serverBackupCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "backup --config=FILE OUT",
		Short: "write a consistent copy of an SQLite vault, while the server serves",
		Long: "Writes a consistent copy of the SQLite database that kazzle-server.hcl names to OUT, with\n" +
			"mode 0600, while the server runs: every write acknowledged before the backup began is in\n" +
			"it. OUT must not exist. The copy holds sealed values and wrapped data keys, never the\n" +
			"root key that unwraps them: keep the root key (kms \"local\" key_file) apart from your\n" +
			"backups, or both are lost together. For PostgreSQL, back up with pg_dump.",
		Example: "  kazzle server backup --config /etc/kazzle/kazzle-server.hcl /var/backups/kazzle-$(date +%F).db",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.serverBackup(cmd.Context(), configPath, args[0])
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "server configuration (kazzle-server.hcl)")
	return cmd
}

func (c *cli) serverBackup(ctx context.Context, configPath, out string) error {
	cfg, err := loadServerConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.Storage.Type != "sqlite" {
		return fmt.Errorf("storage %q: kazzle server backup copies an SQLite vault; back up PostgreSQL with pg_dump (pg_dump --format=custom), and keep the root key apart", cfg.Storage.Type)
	}
	if err := sqlite.Backup(ctx, cfg.Storage.Path, out); err != nil {
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "kazzle: backed up %s to %s (%d bytes, mode 0600)\n", cfg.Storage.Path, out, fi.Size())
	if cfg.KMS.Type == "local" {
		fmt.Fprintf(c.stderr, "kazzle: the backup does not hold the root key %s: keep a copy of it apart from the backups; without it they cannot be opened\n", cfg.KMS.KeyFile)
	}
	return nil
}
