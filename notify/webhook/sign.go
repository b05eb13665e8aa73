package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Key returns the HMAC key of a Standard Webhooks secret: a secret written
// "whsec_<base64>" is the base64-decoded rest (the spec's serialisation);
// any other string is used as raw bytes.
func Key(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), nil
	}
	k, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		// Never quote the secret.
		return nil, fmt.Errorf("secret starts with whsec_ but the rest is not base64")
	}
	return k, nil
}

// Sign returns the webhook-signature value of the Standard Webhooks spec:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignHub returns the GitHub-style X-Hub-Signature-256 value,
// "sha256=" + hex(HMAC-SHA256(secret, body)), keyed with the secret as
// written (GitHub receivers configure the same string).
func SignHub(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
