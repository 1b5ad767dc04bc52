package secret_test

import (
	"errors"
	"fmt"

	"github.com/kazzle/kazzle/secret"
)

// A name is an environment variable name; what follows a character it may not hold is
// never repeated in the error, since it is likely a value typed by habit.
func ExampleValidateName() {
	fmt.Println(secret.ValidateName("STRIPE_SECRET_KEY"))
	err := secret.ValidateName("STRIPE_SECRET_KEY=sk_live_123")
	fmt.Println(errors.Is(err, secret.ErrInvalid))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// invalid secret name "STRIPE_SECRET_KEY"…: a name cannot hold =; the value comes from stdin or a prompt (kazzle secrets set STRIPE_SECRET_KEY, then type or pipe the value)
}

// Each type stores its fields and exports its variables.
func ExampleEnvVars() {
	for _, v := range secret.EnvVars("DB", secret.TypeLogin) {
		fmt.Println(v.Var, "←", v.Field)
	}
	required, optional := secret.TypeGit.StoredFields()
	fmt.Println(required, optional)
	// Output:
	// DB_USERNAME ← username
	// DB_PASSWORD ← password
	// DB_URL ← url
	// [host username password] [path]
}

// A saved value is shown only masked: its first and last four characters when it has
// sixteen or more, otherwise nothing of it.
func ExampleMask() {
	fmt.Println(secret.Mask("sk-proj-abc123xyz789"))
	fmt.Println(secret.Mask("hunter2"))
	fmt.Println(secret.MaskField(secret.FieldSeed, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
	// Output:
	// sk-p****z789
	// ****
	// ****
}

// A field may hold references to fields of other secrets; $${ is a literal ${.
func ExampleParseTemplate() {
	parts, err := secret.ParseTemplate("postgres://${secret.3f0c2a8e-8d5b-4c3e-9a1f-2b7d6e4c1a90.username}@db/app?x=$${y}")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range parts {
		if p.Ref != nil {
			fmt.Printf("reference to field %s of %s\n", p.Ref.Field, p.Ref.ID)
		} else {
			fmt.Printf("literal %q\n", p.Literal)
		}
	}
	// Output:
	// literal "postgres://"
	// reference to field username of 3f0c2a8e-8d5b-4c3e-9a1f-2b7d6e4c1a90
	// literal "@db/app?x=${y}"
}
