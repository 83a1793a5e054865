package loki

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// ErrResponseTooLarge is returned (wrapped) when an answer is bigger than
// Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("response too large")

// Error is a non-2xx answer from Loki.
type Error struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Message is Loki's own text: the body, trimmed, or, when the body is a
	// JSON object with a "message" or "error" field, that field.
	Message string
}

// Error returns e.g. "loki: 400 Bad Request: parse error at line 1, col 23: ...".
func (e *Error) Error() string {
	status := fmt.Sprintf("%d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		status += " " + text
	}
	if e.Message == "" {
		return "loki: " + status
	}
	return "loki: " + status + ": " + e.Message
}

// errorMessage extracts Loki's message from an error body.
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	switch body[0] {
	case '{':
		var fields struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(body, &fields) == nil {
			if fields.Message != "" {
				return fields.Message
			}
			if fields.Error != "" {
				return fields.Error
			}
		}
	case '"':
		var s string
		if json.Unmarshal(body, &s) == nil {
			return s
		}
	}
	return string(body)
}
