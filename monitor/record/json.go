package record

import (
	"bytes"
	"encoding/json"
	"strings"
)

// String is a JSON scalar read as text: a string as is (trimmed), a number
// as written, true/false as words, and null, objects and arrays as "". APIs
// that write numbers as strings in one record and numbers in the next
// (SAM.gov's totalRecords, codes) decode either way, and a wrong type makes
// one field empty instead of failing the page.
type String string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*s = ""
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err == nil {
			*s = String(strings.TrimSpace(v))
		}
	case '{', '[', 'n':
	default:
		*s = String(b)
	}
	return nil
}

// Amount is a JSON amount (string or number) normalised by Decimal; ""
// for null, "" or text that is not an amount.
type Amount string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var s String
	_ = s.UnmarshalJSON(b) // never fails
	d, err := Decimal(string(s))
	if err != nil {
		d = "" // not an amount: unknown
	}
	*a = Amount(d)
	return nil
}

// Int is a JSON integer that may be written as a string ("5691511");
// anything unreadable is 0.
type Int int64

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (n *Int) UnmarshalJSON(b []byte) error {
	var s String
	_ = s.UnmarshalJSON(b) // never fails
	*n = 0
	v := int64(0)
	str := string(s)
	if str == "" || len(str) > 18 || !digits(str) {
		return nil
	}
	for i := 0; i < len(str); i++ {
		v = v*10 + int64(str[i]-'0')
	}
	*n = Int(v)
	return nil
}
