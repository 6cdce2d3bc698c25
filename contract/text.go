package contract

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Text that encoding/json would store altered: bytes that are not UTF-8, and
// string escapes that are not Unicode scalars (a lone surrogate such as
// "\ud800"); both become U+FFFD silently. The strict schemas refuse them,
// naming the field that holds them.

// alteredText finds the first string of a JSON body that holds either, and
// names its top-level field (the field itself when it is its name that is
// bad); ok is false when the body holds none (or is not JSON, which the
// decoder then reports).
func alteredText(body []byte) (fe FieldError, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type level struct{ object, wantKey bool }
	var stack []level
	field, prev := "", int64(0)
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return FieldError{}, false
		}
		raw := body[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, level{object: t == '{', wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
			valueDone()
		case string:
			top := len(stack) - 1
			isKey := top >= 0 && stack[top].object && stack[top].wantKey
			if isKey {
				stack[top].wantKey = false
				if top == 0 {
					field = t
				}
			} else {
				valueDone()
			}
			if problem := textProblem(raw); problem != "" {
				if isKey && top == 0 {
					return FieldError{Field: strconv.QuoteToASCII(t), Problem: "name " + problem}, true
				}
				return FieldError{Field: field, Problem: problem}, true
			}
		default:
			valueDone()
		}
	}
}

// textProblem says what is wrong with a string token's raw bytes, if any.
func textProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return "is not valid UTF-8"
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // an escaped character, such as \\ or \"
			continue
		}
		r, ok := hex4(raw, i+2)
		switch {
		case !ok:
			return "" // not an escape the decoder accepts: it reports the JSON error
		case r >= 0xDC00 && r <= 0xDFFF:
			return "holds a lone surrogate escape (\\u" + strconv.FormatInt(int64(r), 16) + "): not a Unicode character"
		case r >= 0xD800 && r <= 0xDBFF:
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if low, ok := hex4(raw, i+8); ok && low >= 0xDC00 && low <= 0xDFFF {
					i += 11 // a surrogate pair: one character
					continue
				}
			}
			return "holds a lone surrogate escape (\\u" + strconv.FormatInt(int64(r), 16) + "): not a Unicode character"
		}
		i += 5
	}
	return ""
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(v), err == nil
}
