package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"
)

// DKIM signs outgoing mail for a domain (RFC 6376) with go-msgauth, so
// mailbox providers can tell Podium's mail from forgeries of its From
// domain: needed for bulk senders (reminders, follow-ups) to reach inboxes.
type DKIM struct {
	options dkim.SignOptions
}

// dkimHeaders are the header fields signed: those a reader sees and those
// that shape the body. The oversigning of From, To and Subject (listing
// them once more than they occur) keeps anyone from adding a second one.
var dkimHeaders = []string{
	"From", "From", "To", "To", "Subject", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type",
	"List-Unsubscribe", "List-Unsubscribe-Post",
}

// NewDKIM reads a PEM private key (RSA of 2048 bits or more, in PKCS #1 or
// PKCS #8, or Ed25519 in PKCS #8) to sign for domain under selector.
func NewDKIM(domain, selector string, keyPEM []byte) (*DKIM, error) {
	if domain == "" || selector == "" || strings.ContainsAny(domain+selector, " ;=\r\n") {
		return nil, errors.New("mailer: DKIM needs a domain and a selector, such as example.org and podium")
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("mailer: the DKIM key file holds no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("mailer: the DKIM key is a %q; want an RSA or Ed25519 private key", block.Type)
	}
	if err != nil {
		return nil, errors.New("mailer: the DKIM key does not parse as a private key")
	}
	var signer crypto.Signer
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("mailer: the DKIM RSA key has %d bits; mailbox providers want 2048 or more", k.N.BitLen())
		}
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return nil, errors.New("mailer: the DKIM key is neither RSA nor Ed25519")
	}
	return &DKIM{options: dkim.SignOptions{
		Domain: domain, Selector: selector, Signer: signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaders,
	}}, nil
}

// sign adds a DKIM-Signature to msg. go-mail writes a message the same way
// each time (its multipart boundaries are chosen at the first write and
// kept), so the signature computed over this write holds for the one that
// goes out.
func (d *DKIM) sign(msg *mail.Msg) error {
	var unsigned bytes.Buffer
	if _, err := msg.WriteTo(&unsigned); err != nil {
		return fmt.Errorf("mailer: write message to sign: %w", err)
	}
	var signed bytes.Buffer
	options := d.options
	if err := dkim.Sign(&signed, bytes.NewReader(unsigned.Bytes()), &options); err != nil {
		return fmt.Errorf("mailer: DKIM signing: %w", err)
	}
	// dkim.Sign writes the signature's header field, then the message.
	field := signed.Bytes()[:signed.Len()-unsigned.Len()]
	value, ok := strings.CutPrefix(strings.TrimSuffix(string(field), "\r\n"), "DKIM-Signature: ")
	if !ok {
		return errors.New("mailer: DKIM signing wrote no DKIM-Signature field")
	}
	msg.SetGenHeaderPreformatted("DKIM-Signature", value)
	return nil
}
