// Package resolver turns the secrets of a collection into what a process receives: the
// [View] of one environment, its [Resolve]d environment variables with every
// ${secret.<id>.<field>} reference expanded by an [Expander], the [TOTP] codes computed
// from seeds, the templates of [Substitute], and the values a leak scan looks for
// ([Expander.ScanValues]).
//
// It does no I/O of its own: callers hand it [secret.Secret]s, or a [Source] to look
// them up. Every expansion is capped ([MaxExpandedField], [MaxExpandedTotal]) before the
// value that would pass the cap is built. No error here holds a secret value: errors name
// secrets, fields and offsets, never contents.
package resolver
