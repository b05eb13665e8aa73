package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func TestPost(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }
	handler := func(w http.ResponseWriter, r *http.Request) {
		// Read the body so the server notices when the client hangs up.
		io.Copy(io.Discard, r.Body) //nolint:errcheck // only draining
		switch r.URL.Query().Get("mode") {
		case "ok":
			w.Write([]byte("ok"))
		case "429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "500":
			w.WriteHeader(500)
		case "gone":
			w.WriteHeader(410)
			w.Write([]byte("channel_is_archived"))
		case "redirect":
			http.Redirect(w, r, "/elsewhere?mode=ok", http.StatusFound)
		case "hang":
			<-r.Context().Done() // answer nothing until the client gives up
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	tests := []struct {
		name      string
		url       string
		timeout   time.Duration
		wantClass model.ErrorClass
		wantRA    time.Duration
		gone      bool
	}{
		{"ok", srv.URL + "/hook/SECRETPATH?mode=ok", 0, "", 0, false},
		{"429 retry-after", srv.URL + "/hook/SECRETPATH?mode=429", 0, model.ClassRateLimited, 7 * time.Second, false},
		{"500", srv.URL + "/hook/SECRETPATH?mode=500", 0, model.ClassHTTPStatus, 0, false},
		{"410", srv.URL + "/hook/SECRETPATH?mode=gone", 0, model.ClassPermanent, 0, true},
		{"redirect not followed", srv.URL + "/hook/SECRETPATH?mode=redirect", 0, model.ClassHTTPStatus, 0, false},
		{"timeout", srv.URL + "/hook/SECRETPATH?mode=hang", 50 * time.Millisecond, model.ClassTimeout, 0, false},
		{"refused", deadURL + "/hook/SECRETPATH", 0, model.ClassNetwork, 0, false},
	}
	hc := NewHTTPClient()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := Post(context.Background(), hc, now, Request{Dest: "d", URL: tt.url, Body: []byte(`{}`), Timeout: tt.timeout})
			if tt.wantClass == "" {
				if err != nil || rc.Status != 200 || rc.Body != "ok" {
					t.Fatalf("Post = %+v, %v; want 200 ok", rc, err)
				}
				return
			}
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a DeliveryError", err, err)
			}
			if de.Class != tt.wantClass || de.RetryAfter != tt.wantRA || de.IsGone() != tt.gone {
				t.Errorf("got class %q retry-after %s gone %v, want %q %s %v", de.Class, de.RetryAfter, de.IsGone(), tt.wantClass, tt.wantRA, tt.gone)
			}
			if msg := err.Error(); strings.Contains(msg, "SECRETPATH") || strings.Contains(msg, "mode=") {
				t.Errorf("error leaks the URL: %q", msg)
			}
		})
	}
}
