package model

import (
	"reflect"
	"testing"
	"time"
)

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
			v.Set(reflect.ValueOf(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)))
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

// sharedOK are the paths Clone may share: a match's hits are immutable
// (see Clone).
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

func TestCloneIsDeep(t *testing.T) {
	var c Candidate
	fill(reflect.ValueOf(&c).Elem())
	d := c.Clone()
	if !reflect.DeepEqual(&c, d) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, *d)
	}
	if p := shared(reflect.ValueOf(c), reflect.ValueOf(*d), "Candidate"); p != "" {
		t.Errorf("clone shares %s with the original", p)
	}
}
