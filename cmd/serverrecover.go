package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/postgres"
	"github.com/kazzle/kazzle/vault/sqlite"
)

func (c *cli) serverRecoverCommand() *cobra.Command {
	var configPath, space string
	var operator, revokeOthers bool
	cmd := &cobra.Command{
		Use:   "recover-admin --config=FILE [--space=NAME | --operator [--revoke-others]]",
		Short: "print a new admin key of a space, or an operator key, where the server runs",
		Long: "Makes a new admin API key of a space and prints it once on stdout, for whoever runs the\n" +
			"server and lost the space's admin keys. It runs where the server's storage and key\n" +
			"wrapper are, with the server's kazzle-server.hcl, and requires the key wrapper to open\n" +
			"the space's data key. The space's other keys keep working; revoke the lost ones with\n" +
			"kazzle keys revoke. --space names the space; without it, the server's only space.\n" +
			"--operator prints a new operator key instead: it manages spaces (kazzle spaces) and\n" +
			"reaches nothing inside one; with --revoke-others, every other operator key is revoked\n" +
			"with it (for a leaked one). Each key made is an audit event: in the space's trail, or\n" +
			"for an operator key in the server trail.\n\n" +
			"With PostgreSQL it runs beside the servers. An SQLite vault has one process at a time:\n" +
			"stop the server, run it, start the server again.",
		Example: "  kazzle server recover-admin --config /etc/kazzle/kazzle-server.hcl\n" +
			"  kazzle server recover-admin --config /etc/kazzle/kazzle-server.hcl --space acme\n" +
			"  kazzle server recover-admin --config /etc/kazzle/kazzle-server.hcl --operator\n" +
			"  kazzle server recover-admin --config /etc/kazzle/kazzle-server.hcl --operator --revoke-others",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if operator && space != "" {
				return usagef("--space and --operator: an operator key belongs to no space; give one of them")
			}
			if revokeOthers && !operator {
				return usagef("--revoke-others revokes the other operator keys and goes with --operator; a space's keys are revoked with kazzle keys revoke")
			}
			return c.serverRecover(cmd.Context(), configPath, space, operator, revokeOthers)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&configPath, "config", "", "server configuration (kazzle-server.hcl)")
	fs.StringVar(&space, "space", "", "the space whose admin key to make (default: the only one)")
	fs.BoolVar(&operator, "operator", false, "make an operator key, which manages spaces, instead")
	fs.BoolVar(&revokeOthers, "revoke-others", false, "with --operator: revoke every other operator key")
	return cmd
}

// recoverActor is who the audit trail says made a recovered key: someone on the
// server's host, with its configuration.
var recoverActor = vault.Actor{Name: "server recover-admin", ClientAddr: "local"}

func (c *cli) serverRecover(ctx context.Context, configPath, spaceName string, operator, revokeOthers bool) error {
	cfg, err := loadServerConfig(configPath)
	if err != nil {
		return err
	}
	// Nothing is created here: a missing database or root key is a mistaken
	// configuration, not a vault to start.
	var version int
	switch st := cfg.Storage; st.Type {
	case "sqlite":
		version, err = sqlite.Inspect(ctx, st.Path)
	case "postgres":
		dsn, derr := c.postgresURL(st)
		if derr != nil {
			return derr
		}
		if version, err = postgres.Inspect(ctx, dsn); err != nil {
			err = redactURLPassword(err, dsn)
		}
	}
	if err != nil {
		return fmt.Errorf("storage %q: %w", cfg.Storage.Type, err)
	}
	if version == 0 {
		return fmt.Errorf("storage %q holds no vault yet: its first start (kazzle server --config %s) creates the first space and prints its admin key", cfg.Storage.Type, configPath)
	}
	if cfg.KMS.Type == "local" {
		if _, err := os.Stat(cfg.KMS.KeyFile); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("kms \"local\": key_file %s does not exist: restore the root key from where you keep it apart; a new key cannot open the vault", cfg.KMS.KeyFile)
		}
	}
	store, err := c.openStore(ctx, cfg.Storage)
	if errors.Is(err, sqlite.ErrInUse) {
		return withHint(fmt.Errorf("storage \"sqlite\": %s is open in a running kazzle server", cfg.Storage.Path),
			"an SQLite vault has one process at a time: stop the server, run recover-admin, then start the server again (with PostgreSQL, recover-admin runs beside the servers)")
	}
	if err != nil {
		return err
	}
	defer store.Close()
	wrapper, err := openKeyWrapper(ctx, cfg.KMS)
	if err != nil {
		return fmt.Errorf("kms %q: %w", cfg.KMS.Type, err)
	}
	v := vault.New(store, wrapper, vault.Options{})

	if operator {
		_, token, err := v.CreateOperatorKey(ctx, recoverActor, revokeOthers)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, token)
		fmt.Fprintln(c.stderr, "kazzle: a new operator key, shown this once: it creates, lists and deletes spaces (kazzle spaces) and reaches nothing inside one")
		if revokeOthers {
			fmt.Fprintln(c.stderr, "kazzle: every other operator key is revoked")
		}
		fmt.Fprintln(c.stderr, "kazzle: the server trail records it (kazzle spaces audit)")
		return nil
	}
	space, err := recoverSpace(ctx, v, spaceName)
	if err != nil {
		return err
	}
	_, token, err := v.RecoverAdminKey(ctx, recoverActor, space.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, token)
	fmt.Fprintf(c.stderr, "kazzle: a new admin key of space %s, shown this once; the space's other keys keep working (kazzle keys list, kazzle keys revoke ID)\n", space.Name)
	fmt.Fprintf(c.stderr, "kazzle: the audit trail of %s records it (kazzle audit --action key.recover)\n", space.Name)
	return nil
}

// recoverSpace is the space named, or the server's only live space.
func recoverSpace(ctx context.Context, v *vault.Vault, name string) (vault.Space, error) {
	if name != "" {
		s, err := v.SpaceByName(ctx, name)
		if errors.Is(err, vault.ErrNotFound) {
			return s, fmt.Errorf("no live space is named %q: kazzle spaces list names them (with an operator key)", name)
		}
		return s, err
	}
	spaces, err := v.Store().Spaces(ctx)
	if err != nil {
		return vault.Space{}, err
	}
	switch len(spaces) {
	case 0:
		return vault.Space{}, errors.New("the server holds no live space: make an operator key (--operator) and create one with kazzle spaces create")
	case 1:
		return spaces[0], nil
	}
	names := make([]string, 0, 5)
	for _, s := range spaces[:min(5, len(spaces))] {
		names = append(names, s.Name)
	}
	more := ""
	if len(spaces) > 5 {
		more = ", …"
	}
	return vault.Space{}, usagef("the server holds %d spaces (%s%s): name one with --space", len(spaces), strings.Join(names, ", "), more)
}
