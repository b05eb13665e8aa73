package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Secret is a configuration value that must never reach a log, a page or an
// error: an API key, a webhook URL, a signing secret, a token. It is written
// in YAML as a reference:
//
//	env:NAME      the environment variable NAME
//	file:/path    the file's contents, trailing newline trimmed
//	cred:NAME     a systemd credential (LoadCredential=), read from
//	              $CREDENTIALS_DIRECTORY/NAME
//
// A plain string is accepted as a literal value too, for tests and demos;
// it is redacted the same way. References are resolved when the config is
// loaded; an unresolvable reference is a config problem.
type Secret struct {
	ref   string
	value string
}

// NewSecret returns a resolved literal secret (for tests and tools).
func NewSecret(v string) Secret { return Secret{ref: "literal", value: v} }

// Value returns the resolved secret. Callers must not log it.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the secret was configured.
func (s Secret) IsSet() bool { return s.ref != "" }

// String redacts the value; it shows only the kind of reference.
func (s Secret) String() string {
	if s.ref == "" {
		return ""
	}
	kind, _, _ := strings.Cut(s.ref, ":")
	switch kind {
	case "env", "file", "cred":
	default:
		kind = "literal"
	}
	return "[redacted " + kind + "]"
}

// GoString redacts under %#v too.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML writes the redacted form, so config dumps never hold secrets.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalYAML keeps the reference; resolve reads it.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a secret must be a string such as env:NAME or file:/path", n.Line)
	}
	s.ref = n.Value
	s.value = ""
	return nil
}

// resolve reads the referenced value. baseDir resolves relative file: paths.
func (s *Secret) resolve(baseDir string, lookupEnv func(string) (string, bool)) error {
	kind, arg, ok := strings.Cut(s.ref, ":")
	switch {
	case s.ref == "":
		return nil
	case ok && kind == "env":
		v, found := lookupEnv(arg)
		if !found || v == "" {
			return fmt.Errorf("environment variable %s is not set", arg)
		}
		s.value = v
	case ok && (kind == "file" || kind == "cred"):
		path := arg
		if kind == "cred" {
			dir, found := lookupEnv("CREDENTIALS_DIRECTORY")
			if !found || dir == "" {
				return fmt.Errorf("credential %s: CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit)", arg)
			}
			path = filepath.Join(dir, arg)
		} else if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The path is not secret; the contents are.
			return fmt.Errorf("read secret file: %w", err)
		}
		s.value = strings.TrimRight(string(b), "\r\n")
		if s.value == "" {
			return fmt.Errorf("secret file %s is empty", path)
		}
	default:
		s.value = s.ref
	}
	return nil
}
