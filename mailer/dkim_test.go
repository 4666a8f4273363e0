package mailer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// testDKIMKey makes a key of kind ("rsa" or "ed25519") and returns its PEM
// and the DNS TXT record that publishes it.
func testDKIMKey(t *testing.T, kind string) (keyPEM []byte, record string) {
	t.Helper()
	var der, pub []byte
	var err error
	k := "rsa"
	switch kind {
	case "rsa":
		key, genErr := rsa.GenerateKey(rand.Reader, 2048)
		if genErr != nil {
			t.Fatal(genErr)
		}
		der = x509.MarshalPKCS1PrivateKey(key)
		pub, err = x509.MarshalPKIXPublicKey(&key.PublicKey)
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	case "ed25519":
		public, private, genErr := ed25519.GenerateKey(rand.Reader)
		if genErr != nil {
			t.Fatal(genErr)
		}
		der, err = x509.MarshalPKCS8PrivateKey(private)
		pub, k = public, "ed25519"
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if err != nil {
		t.Fatal(err)
	}
	return keyPEM, "v=DKIM1; k=" + k + "; p=" + base64.StdEncoding.EncodeToString(pub)
}

// A signed confirmation, invite and all, arrives at a real SMTP server with
// a DKIM signature that verifies against the published key, with go-msgauth
// and, where Debian's python3-dkim is installed, with dkimpy too; a message
// changed on the way fails.
func TestDKIM_SignedMailVerifiesAtTheReceiver(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		keyPEM, record := testDKIMKey(t, kind)
		signer, err := NewDKIM("podium.example", "mail2026", keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv, plain := startServer(t)
		sender := NewSender(plain.cfg, WithTLSConfig(plain.tlsConfig), WithDKIM(signer))
		if errs := sender.Send(context.Background(), []Message{testInvite(MethodRequest)}); errs[0] != nil {
			t.Fatalf("%s: send: %v", kind, errs[0])
		}
		data := srv.Messages()[0].Data
		lookup := func(domain string) ([]string, error) {
			if domain != "mail2026._domainkey.podium.example" {
				t.Errorf("looked up %q", domain)
			}
			return []string{record}, nil
		}
		verify := func(msg []byte) error {
			v, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookup})
			if err != nil {
				return err
			}
			if len(v) != 1 {
				t.Fatalf("%s: %d signatures; want 1", kind, len(v))
			}
			return v[0].Err
		}
		if err := verify(data); err != nil {
			t.Fatalf("%s: the received message does not verify: %v\n%s", kind, err, data)
		}
		for what, tampered := range map[string][]byte{
			"subject": bytes.Replace(data, []byte("\r\nSubject:"), []byte("\r\nSubject: Re:"), 1),
			"body":    bytes.Replace(data, []byte("Bonjour"), []byte("Bonsoir"), 1),
		} {
			if bytes.Equal(tampered, data) {
				t.Fatalf("%s: no %s to change", kind, what)
			}
			if err := verify(tampered); err == nil {
				t.Fatalf("%s: a changed %s still verifies", kind, what)
			}
		}
		if kind == "rsa" {
			verifyWithDKIMPy(t, data, record)
		}
	}
}

// verifyWithDKIMPy checks the signature with dkimpy, an implementation
// nobody here wrote; CI installs it (python3-dkim), elsewhere it may skip.
func verifyWithDKIMPy(t *testing.T, msg []byte, record string) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import dkim").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-dkim is needed in CI")
		}
		t.Log("dkimpy not installed (apt-get install python3-dkim): checked with go-msgauth only")
		return
	}
	path := filepath.Join(t.TempDir(), "signed.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `import dkim, sys
msg = open(sys.argv[1], "rb").read()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: sys.argv[2].encode())
print("verified" if ok else "failed")`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path, record).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "verified" {
		t.Fatalf("dkimpy: %v: %s", err, out)
	}
}

func TestNewDKIM_RefusesWeakOrMissingKeys(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)})
	good, _ := testDKIMKey(t, "ed25519")
	for name, c := range map[string]struct {
		domain, selector string
		key              []byte
	}{
		"a 1024-bit key": {"podium.example", "s", weakPEM},
		"no PEM":         {"podium.example", "s", []byte("not a key")},
		"a certificate":  {"podium.example", "s", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})},
		"no domain":      {"", "s", good},
		"a bad selector": {"podium.example", "a;b", good},
	} {
		if _, err := NewDKIM(c.domain, c.selector, c.key); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
