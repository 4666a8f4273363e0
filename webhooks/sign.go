package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// Signature is the webhook-signature header's value: "v1," and the base64
// HMAC-SHA256 of "id.timestamp.body" under each secret's key, separated by
// spaces (two while a rotated-out secret still signs).
func Signature(secrets []string, msgID string, timestamp time.Time, body []byte) (string, error) {
	signed := make([]byte, 0, len(msgID)+len(body)+12)
	signed = append(signed, msgID...)
	signed = append(signed, '.')
	signed = strconv.AppendInt(signed, timestamp.Unix(), 10)
	signed = append(signed, '.')
	signed = append(signed, body...)
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		key, err := models.WebhookKey(secret)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(signed)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
