package cmd

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// TestAWSClientsDoNotFollowARedirect: an https AWS endpoint that redirects to plain http
// makes the call fail, and the http listener never gets the signed request or its body.
// (The SDK's own client follows 307 and 308 of a request without a body, such as
// Lambda's GetFunctionConfiguration, whose answer holds the function's environment.)
// The endpoint's CA comes in as AWS_CA_BUNDLE would bring it, which must keep working.
func TestAWSClientsDoNotFollowARedirect(t *testing.T) {
	const value = "ssm-value-must-not-travel-in-clear"
	calls := map[string]func(context.Context, aws.Config) error{
		"ssm PutParameter (deploy)": func(ctx context.Context, cfg aws.Config) error {
			_, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
				Name: aws.String("/app/TOKEN"), Value: aws.String(value), Type: "SecureString", Overwrite: aws.Bool(true)})
			return err
		},
		// A GET without a body: the SDK's own client followed its 307 and 308, signed.
		"lambda GetFunctionConfiguration (deploy)": func(ctx context.Context, cfg aws.Config) error {
			_, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api")})
			return err
		},
		"kms Decrypt (server)": func(ctx context.Context, cfg aws.Config) error {
			_, err := kms.NewFromConfig(cfg).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte(value)})
			return err
		},
	}
	for _, status := range []int{301, 307, 308} {
		for name, call := range calls {
			t.Run(name+" "+http.StatusText(status), func(t *testing.T) {
				var mu sync.Mutex
				var got []string
				plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					got = append(got, r.Header.Get("Authorization"))
					mu.Unlock()
					w.Write([]byte("{}"))
				}))
				defer plain.Close()
				reached := 0
				endpoint := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					reached++
					mu.Unlock()
					http.Redirect(w, r, plain.URL+r.URL.Path, status)
				}))
				defer endpoint.Close()
				ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: endpoint.Certificate().Raw})
				ctx := context.Background()
				cfg, err := loadAWSConfig(ctx,
					awsconfig.WithRegion("us-east-1"),
					awsconfig.WithCustomCABundle(bytes.NewReader(ca)),
					awsconfig.WithBaseEndpoint(endpoint.URL),
					awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDREDIRECTTEST", "secret", "")),
					awsconfig.WithRetryMaxAttempts(1),
				)
				if err != nil {
					t.Fatal(err)
				}
				err = call(ctx, cfg)
				mu.Lock()
				defer mu.Unlock()
				if reached == 0 {
					t.Fatalf("the https endpoint was not reached (its CA not trusted?): %v", err)
				}
				if err == nil {
					t.Error("the call succeeded through a redirect")
				}
				if len(got) != 0 {
					t.Fatalf("the plain-http listener got %d requests (Authorization %q)", len(got), got)
				}
			})
		}
	}
}
