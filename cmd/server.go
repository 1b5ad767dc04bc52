package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config/serverconfig"
	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/awskms"
	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/postgres"
	"github.com/kazzle/kazzle/vault/sqlite"
)

// defaultDataDir is the dev server's data folder when --data is not given.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "kazzle", "dev")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "kazzle", "dev")
	}
	return ".kazzle-dev"
}

func (c *cli) serverCommand() *cobra.Command {
	var o serverOptions
	cmd := &cobra.Command{
		Use:   "server --dev [--data=DIR] [--listen=ADDR] | --config=FILE",
		Short: "run the vault server (--dev for a local one)",
		Long: "Runs the vault server. --dev runs a local one: plain HTTP on loopback, SQLite and a local\n" +
			"root key in --data; its first start prints an admin API key. --config runs one as\n" +
			"kazzle-server.hcl says: TLS, PostgreSQL or SQLite, a local key or AWS KMS.",
		Example: "  kazzle server --dev\n  kazzle server --config /etc/kazzle/kazzle-server.hcl",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.serverCmd(cmd.Context(), &o) },
	}
	cmd.AddCommand(c.serverCheckCommand(), c.serverBackupCommand(), c.serverRecoverCommand())
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.configPath, "config", "", "server configuration (kazzle-server.hcl)")
	fs.BoolVar(&o.dev, "dev", false, "run a local dev server: plain HTTP on loopback, SQLite and a local key in --data")
	fs.StringVar(&o.data, "data", defaultDataDir(c.getenv), "data folder of the dev server")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:7878", "address of the dev server (loopback only)")
	return cmd
}

type serverOptions struct {
	configPath, data, listen string
	dev                      bool
}

func (c *cli) serverCmd(ctx context.Context, o *serverOptions) error {
	configPath, dev, data, listen := &o.configPath, &o.dev, &o.data, &o.listen
	var cfg serverconfig.Config
	switch {
	case *dev && *configPath == "":
		host, _, err := net.SplitHostPort(*listen)
		if err != nil || !api.IsLoopback(host) {
			return usagef("--listen %s: the dev server listens on loopback only (127.0.0.1:PORT); use --config for anything else", *listen)
		}
		cfg = serverconfig.Config{
			Listener: serverconfig.Listener{Type: "tcp", Address: *listen, TLSDisable: true},
			Storage:  serverconfig.Storage{Type: "sqlite", Path: filepath.Join(*data, "kazzle.db")},
			KMS:      serverconfig.KMS{Type: "local", KeyFile: filepath.Join(*data, "root.key")},
		}
	case !*dev && *configPath != "":
		var err error
		if cfg, err = loadServerConfig(*configPath); err != nil {
			return err
		}
	default:
		return usagef("say how to run: kazzle server --dev (local) or kazzle server --config kazzle-server.hcl")
	}
	return c.serve(ctx, cfg)
}

// loadServerConfig reads and parses kazzle-server.hcl.
func loadServerConfig(path string) (serverconfig.Config, error) {
	if path == "" {
		return serverconfig.Config{}, usagef("--config is required: the server's kazzle-server.hcl")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return serverconfig.Config{}, err
	}
	return serverconfig.Parse(path, src)
}

// openStore opens the configured database.
func (c *cli) openStore(ctx context.Context, st serverconfig.Storage) (vault.Store, error) {
	if st.Type == "sqlite" {
		return sqlite.Open(ctx, st.Path)
	}
	dsn, err := c.postgresURL(st)
	if err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		// Whatever pgx's errors repeat of the URL, they must not repeat its password.
		return nil, fmt.Errorf("storage \"postgres\": %w", redactURLPassword(err, dsn))
	}
	return store, nil
}

// postgresURL is the storage's URL, from url or from the variable url_env names.
func (c *cli) postgresURL(st serverconfig.Storage) (string, error) {
	if st.URLEnv == "" {
		return st.URL, nil
	}
	dsn := c.getenv(st.URLEnv)
	if dsn == "" {
		return "", fmt.Errorf("storage \"postgres\": url_env names %s, which is not set", st.URLEnv)
	}
	return dsn, nil
}

func openKeyWrapper(ctx context.Context, k serverconfig.KMS) (vault.KeyWrapper, error) {
	if k.Type == "local" {
		return localkms.Open(k.KeyFile)
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if k.Region != "" {
		opts = append(opts, awsconfig.WithRegion(k.Region))
	}
	awsCfg, err := loadAWSConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return awskms.New(kms.NewFromConfig(awsCfg), k.KeyID), nil
}

func (c *cli) serve(ctx context.Context, cfg serverconfig.Config) error {
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	if os.Getenv("GOGC") == "" {
		// A server's live heap is small and its garbage is per request: collecting less
		// often buys throughput for a few megabytes.
		debug.SetGCPercent(400)
	}
	// Everything that can fail on its own is done before the store is opened: a start
	// that fails prints no admin key, says nothing of listening and creates no space.
	if err := cfg.CheckFiles(); err != nil {
		return err
	}
	retention, err := cfg.Audit.RetentionDuration()
	if err != nil {
		return err
	}
	l := cfg.Listener
	tlsConfig := server.TLSConfig()
	if !l.TLSDisable {
		pair, err := tls.LoadX509KeyPair(l.TLSCertFile, l.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("listener \"tcp\": load tls_cert_file %s and tls_key_file %s: %w", l.TLSCertFile, l.TLSKeyFile, err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	ln, err := net.Listen("tcp", l.Address)
	if err != nil {
		return err
	}
	defer ln.Close()
	store, err := c.openStore(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	defer store.Close()
	wrapper, err := openKeyWrapper(ctx, cfg.KMS)
	if err != nil {
		return err
	}
	v := vault.New(store, wrapper, vault.Options{Logger: log})
	space, token, created, err := v.Bootstrap(ctx, "default")
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if created {
		fmt.Fprintf(c.stderr, "kazzle: first start: created space %q and its admin API key, shown this once:\n", space.Name)
		fmt.Fprintf(c.stderr, "kazzle: admin API key: %s\n", token)
		fmt.Fprintf(c.stderr, "kazzle: hint: export KAZZLE_API_KEY=%s\n", token)
	}
	host, _, _ := net.SplitHostPort(l.Address)
	// Behind a proxy the Host is the proxy's public name, not a loopback one.
	handler := server.New(v, server.Options{Logger: log, LoopbackOnly: l.TLSDisable && api.IsLoopback(host) && !l.BehindTLSProxy,
		BehindTLSProxy: l.BehindTLSProxy, OIDC: oidcProviders(cfg.OIDC)})
	srv := handler.HTTPServer()
	srv.TLSConfig = tlsConfig
	scheme := "https"
	if l.TLSDisable {
		scheme = "http"
	}
	fmt.Fprintf(c.stderr, "kazzle: server listening on %s://%s\n", scheme, ln.Addr())
	if l.BehindTLSProxy && l.TLSDisable {
		fmt.Fprintln(c.stderr, "kazzle: behind a TLS-terminating proxy: browsers reach the admin UI at the proxy's https:// address")
	} else {
		fmt.Fprintf(c.stderr, "kazzle: admin UI on %s://%s/ui/ (sign in with an API key)\n", scheme, ln.Addr())
	}
	if retention > 0 {
		go pruneAudit(ctx, v, retention, log)
	}
	// Counted refusals are recorded each minute, and the last minute's when the server
	// stops.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() { handler.RunAudit(auditCtx); close(auditDone) }()
	defer func() { stopAudit(); <-auditDone }()
	served := make(chan error, 1)
	go func() {
		if l.TLSDisable {
			served <- srv.Serve(ln)
		} else {
			served <- srv.ServeTLS(ln, "", "") // the pair loaded above is in srv.TLSConfig
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(c.stderr, "kazzle: shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(c.stderr, "kazzle: server stopped")
	return nil
}

// oidcProviders turns the oidc blocks, checked as the file was read, into the server's.
func oidcProviders(blocks []serverconfig.OIDC) []server.OIDCProvider {
	var out []server.OIDCProvider
	for _, b := range blocks {
		p := server.OIDCProvider{Name: b.Name, Issuer: b.Issuer, Audience: b.Audience}
		for _, r := range b.Rules {
			p.Rules = append(p.Rules, server.OIDCRule{Space: r.Space, Claims: r.Claims, Role: vault.Role(r.Role),
				Collection: r.Collection, Environment: r.Env, TTL: r.TTL})
		}
		out = append(out, p)
	}
	return out
}

func pruneAudit(ctx context.Context, v *vault.Vault, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := v.PruneAudit(ctx, retention); err != nil {
			log.Warn("pruning the audit trail", "err", err)
		} else if n > 0 {
			log.Info("pruned the audit trail", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// redactURLPassword replaces the password of a database URL in err's text.
func redactURLPassword(err error, raw string) error {
	u, perr := url.Parse(raw)
	if perr != nil {
		return errors.New("the URL is malformed: expected postgres://user:password@host:5432/database")
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}
