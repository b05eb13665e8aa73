package storage

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// openTitle returns the title of candidate id as OpenCandidatesSince sees
// it in a write transaction (the cached path).
func openTitle(t *testing.T, s *Store, id string) string {
	t.Helper()
	var title string
	err := s.Update(func(tx *Tx) error {
		cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
		for _, c := range cs {
			if c.ID == id {
				title = c.Title
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("OpenCandidatesSince: %v", err)
	}
	return title
}

// TestCandidateCacheFollowsTheStore checks that the decoded-candidate cache
// of write transactions never shows anything but what is stored: after a
// save through PutCandidate, after a change through another path
// (UpdateCandidate), and after a transaction that changed a shared
// candidate and then failed.
func TestCandidateCacheFollowsTheStore(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name   string
		change func(t *testing.T, s *Store)
		want   string
	}{
		{"unchanged", func(*testing.T, *Store) {}, "first"},
		{"put through OpenCandidatesSince's object", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				cs[0].Title = "joined"
				return tx.PutCandidate(cs[0])
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "joined"},
		{"moved in time and re-keyed through the shared object", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				// The old index entries (LastSeen t0, key url:a) must go:
				// openTest's cleanup checks the indexes.
				cs[0].Title, cs[0].LastSeen, cs[0].Keys = "moved", t0.Add(time.Minute), []string{"url:b"}
				return tx.PutCandidate(cs[0])
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Update(func(tx *Tx) error {
				c, err := tx.CandidateByKey("url:a")
				if err == nil && c != nil {
					t.Errorf("released key url:a still finds %s", c.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "moved"},
		{"written by UpdateCandidate", func(t *testing.T, s *Store) {
			if _, err := s.UpdateCandidate("c1", 1, setTitle("updated")); err != nil {
				t.Fatal(err)
			}
		}, "updated"},
		{"changed in a transaction that failed", func(t *testing.T, s *Store) {
			err := s.Update(func(tx *Tx) error {
				cs, err := tx.OpenCandidatesSince(t0.Add(-time.Hour))
				if err != nil {
					return err
				}
				cs[0].Title = "rolled back"
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update: %v, want boom", err)
			}
		}, "first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			putCand(t, s, &model.Candidate{ID: "c1", Status: model.StatusPending, Title: "first", LastSeen: t0, Keys: []string{"url:a"}})
			if got := openTitle(t, s, "c1"); got != "first" { // fills the cache
				t.Fatalf("before: title %q, want first", got)
			}
			tc.change(t, s)
			if got := openTitle(t, s, "c1"); got != tc.want {
				t.Errorf("cached title %q, want %q", got, tc.want)
			}
			c, err := s.Candidate("c1")
			if err != nil {
				t.Fatal(err)
			}
			if c.Title != tc.want {
				t.Errorf("stored title %q, want %q", c.Title, tc.want)
			}
		})
	}
}

// fill sets every field reachable from v to a non-zero value, with one
// element in every slice and map, so aliasing can be seen.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Float64:
		v.SetFloat(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	}
}

// sharedOK are the paths cloneCandidate may share: a match's hits are
// immutable (see cloneCandidate).
var sharedOK = map[string]bool{"Candidate.Matches[].Hits": true}

// shared reports the path of the first slice, map or pointer that a and b
// share, or "", not counting sharedOK.
func shared(a, b reflect.Value, path string) string {
	if sharedOK[path] {
		return ""
	}
	switch a.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice:
		for i := range min(a.Len(), b.Len()) {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Pointer:
		if !a.IsNil() && !b.IsNil() {
			return shared(a.Elem(), b.Elem(), path+"*")
		}
	}
	return ""
}

func TestCloneCandidateIsDeep(t *testing.T) {
	var c model.Candidate
	fill(reflect.ValueOf(&c).Elem())
	d := cloneCandidate(&c)
	if !reflect.DeepEqual(&c, d) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, *d)
	}
	if p := shared(reflect.ValueOf(c), reflect.ValueOf(*d), "Candidate"); p != "" {
		t.Errorf("clone shares %s with the original", p)
	}
}
