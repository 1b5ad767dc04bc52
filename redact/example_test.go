package redact_test

import (
	"fmt"
	"os"

	"github.com/kazzle/kazzle/redact"
)

// A Redactor replaces a value even when the writes split it: the bytes that may begin a
// value wait until the value is ruled in or out.
func ExampleRedactor() {
	r := redact.NewRedactor(os.Stdout, []redact.Replacement{
		{Value: "hunter2hunter2", With: "${secret.5a1e….password}"},
	})
	r.Write([]byte("login ok, password=hunter2"))
	r.Write([]byte("hunter2 (hunter"))
	r.Write([]byte(" is fine)\n"))
	r.Close()
	// Output:
	// login ok, password=${secret.5a1e….password} (hunter is fine)
}

// EncodedReplacements covers a value as output is likely to carry it: escaped in JSON,
// URL-encoded, in base64 and hex.
func ExampleEncodedReplacements() {
	value := `pa ss"word`
	reps := redact.EncodedReplacements(value, "[DB_PASSWORD]")
	out := redact.Redact(`{"p":"pa ss\"word"} p=pa+ss%22word auth=cGEgc3Mid29yZA== `+fmt.Sprintf("%x", value), reps)
	fmt.Println(out)
	// Output:
	// {"p":"[DB_PASSWORD]"} p=[DB_PASSWORD] auth=[DB_PASSWORD] [DB_PASSWORD]
}

// A Matcher finds any of many patterns in one pass, the longest at the leftmost position.
func ExampleMatcher() {
	m := redact.NewMatcher([]string{"postgres://app", "postgres://app:pw@db", "sk_live_"})
	pos, id := m.Index([]byte("url=postgres://app:pw@db/app"))
	fmt.Println(pos, id)
	// Output:
	// 4 1
}
