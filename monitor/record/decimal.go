package record

import (
	"errors"
	"strings"
)

// errNotDecimal is returned by Decimal for text that is not an amount.
var errNotDecimal = errors.New("not a decimal amount")

// maxDecimalLen bounds the text Decimal accepts; no federal amount needs
// more, and hostile exponents must not build huge strings.
const maxDecimalLen = 64

// Decimal normalises an amount written by a procurement API into the form
// of model.Record.Amount: an optional leading "-", digits, and an optional
// "." with digits, without thousands separators, leading zeros or a "+".
// It accepts surrounding space, a "$" before or after the sign, thousands
// separators (","), accounting negatives "(4,500)", and exponents
// ("4.3e9", as JSON numbers may be written). The digits are kept exactly:
// "5000000.00" stays "5000000.00"; no float is involved. Zero is never
// negative. "" (and "null") give "", nil: an unknown amount.
func Decimal(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return "", nil
	}
	if len(s) > maxDecimalLen {
		return "", errNotDecimal
	}
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	s = strings.TrimPrefix(s, "$")
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = !neg, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s = strings.TrimPrefix(s, "$")
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, hasDot := strings.Cut(mant, ".")
	intPart = strings.ReplaceAll(intPart, ",", "")
	if (intPart == "" && frac == "") || !digits(intPart) || !digits(frac) || (hasDot && strings.Contains(frac, ",")) {
		return "", errNotDecimal
	}
	if hasExp {
		e, ok := smallInt(exp)
		if !ok {
			return "", errNotDecimal
		}
		intPart, frac = shift(intPart, frac, e)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(intPart+frac, "0") != "" {
		out = "-" + out
	}
	if len(out) > maxDecimalLen {
		return "", errNotDecimal // an exponent blew it up: no real amount is this long
	}
	return out, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// smallInt parses a signed exponent of at most two digits.
func smallInt(s string) (int, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || len(s) > 2 || !digits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// shift moves the decimal point of intPart.frac by e places.
func shift(intPart, frac string, e int) (string, string) {
	all := intPart + frac
	point := len(intPart) + e
	switch {
	case point <= 0:
		return "0", strings.Repeat("0", -point) + all
	case point >= len(all):
		return all + strings.Repeat("0", point-len(all)), ""
	default:
		return all[:point], all[point:]
	}
}
