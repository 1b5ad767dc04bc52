package vault

import "context"

// WriteUncheckedVersion stores fields as the next version of a secret without any check
// of a write, as a version written before a rule existed was.
func (v *Vault) WriteUncheckedVersion(ctx context.Context, actor Actor, spaceID, id string, fields map[string]string) (SecretMeta, error) {
	cur, err := v.store.Secret(ctx, spaceID, id)
	if err != nil {
		return SecretMeta{}, err
	}
	meta := cur.SecretMeta
	meta.Version++
	return v.storeVersion(ctx, actor, meta, fields, versionChange{}, "secret.update")
}
