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
	aead, err := v.aead(ctx, spaceID)
	if err != nil {
		return SecretMeta{}, err
	}
	sealed, err := sealAll(aead, meta, fields)
	if err != nil {
		return SecretMeta{}, err
	}
	c, e, err := v.targetOf(ctx, meta)
	if err != nil {
		return SecretMeta{}, err
	}
	return meta, v.store.UpdateSecret(ctx, sealed, v.event(actor, spaceID, "secret.update", secretTarget(c, e, meta)))
}
