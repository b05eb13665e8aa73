package bench

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func get(t *testing.T, url, etag string) (int, string, int) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("ETag"), len(b)
}

func TestServerConditionalGet(t *testing.T) {
	srv, err := NewServer(NewGenerator(GenOptions{Items: 5}), 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, tag0, _ := get(t, srv.URL(3), "")
	changed := srv.Change(0.2, 1)
	if len(changed) != 2 {
		t.Fatalf("Change(0.2) of 10 feeds changed %d", len(changed))
	}
	isChanged := func(n int) bool {
		for _, c := range changed {
			if c == n {
				return true
			}
		}
		return false
	}
	unchanged := 0
	for unchanged < 10 && isChanged(unchanged) {
		unchanged++
	}
	_, tagU, _ := get(t, srv.URL(unchanged), "")
	tagC0 := etag(changed[0], 0)
	cases := []struct {
		name       string
		url, etag  string
		wantStatus int
		wantBody   bool
	}{
		{"no validator", srv.URL(unchanged), "", http.StatusOK, true},
		{"current etag", srv.URL(unchanged), tagU, http.StatusNotModified, false},
		{"etag of the version before a change", srv.URL(changed[0]), tagC0, http.StatusOK, true},
		{"unknown feed", srv.URL(0)[:len(srv.URL(0))-1] + "99", "", http.StatusNotFound, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, n := get(t, tc.url, tc.etag)
			if status != tc.wantStatus {
				t.Errorf("status %d, want %d", status, tc.wantStatus)
			}
			if (n > 0) != tc.wantBody {
				t.Errorf("body of %d bytes, want body %t", n, tc.wantBody)
			}
		})
	}
	if tag0 == "" {
		t.Error("200 without an ETag")
	}
	if srv.Version(changed[0]) != 1 || srv.Version(unchanged) != 0 {
		t.Errorf("versions %d and %d, want 1 and 0", srv.Version(changed[0]), srv.Version(unchanged))
	}
	ok, nm, _ := srv.Counts()
	if ok < 4 || nm != 1 {
		t.Errorf("counts: %d ok, %d not modified; want >= 4 and 1", ok, nm)
	}
}

func TestFloorParsesEveryFeed(t *testing.T) {
	srv, err := NewServer(NewGenerator(GenOptions{Items: 7}), 12, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Transport: NewTransport()}
	defer client.CloseIdleConnections()
	for _, noImg := range []bool{false, true} {
		res, err := Floor(context.Background(), client, srv.URLs(), FloorOptions{Concurrency: 3, NoImageScan: noImg})
		if err != nil {
			t.Fatalf("Floor(noImageScan=%t): %v", noImg, err)
		}
		if res.Feeds != 12 || res.Items != 84 || res.Bytes == 0 {
			t.Errorf("Floor(noImageScan=%t) = %+v, want 12 feeds, 84 items", noImg, res)
		}
	}
	if _, err := Floor(context.Background(), client, []string{srv.URL(0) + "x"}, FloorOptions{}); err == nil {
		t.Error("Floor over a missing feed: no error")
	}
}
