package storage

// Source state.
//
// Bucket "sources": key = the source's configured name (UTF-8, no 0x00),
// value = JSON model.SourceState. One small record per source, rewritten by
// every Commit and by PutSourceState.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/tierwatch/tierwatch/model"
)

// SourceState returns the saved state of the named source, or the zero
// state with Name set when the source was never saved.
func (s *Store) SourceState(name string) (model.SourceState, error) {
	st := model.SourceState{Name: name}
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketSources)
		if err != nil {
			return err
		}
		_, err = getJSON(b, []byte(name), &st)
		return err
	})
	if err != nil {
		return model.SourceState{}, fmt.Errorf("load source state %s: %w", name, err)
	}
	st.Name = name
	return st, nil
}

// SourceStates returns every saved source state, sorted by name.
func (s *Store) SourceStates() ([]model.SourceState, error) {
	var out []model.SourceState
	err := s.view(func(tx *Tx) error {
		b, err := tx.bucket(bucketSources)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var st model.SourceState
			if _, err := getJSON(b, k, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load source states: %w", err)
	}
	// bbolt already returns keys in byte order; sort anyway so the
	// contract does not depend on that.
	slices.SortFunc(out, func(a, b model.SourceState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PutSourceState saves st under st.Name, replacing any earlier state.
func (s *Store) PutSourceState(st model.SourceState) error {
	err := s.update(func(tx *Tx) error {
		b, err := tx.bucket(bucketSources)
		if err != nil {
			return err
		}
		return putSourceState(b, st)
	})
	if err != nil {
		return fmt.Errorf("save source state %s: %w", st.Name, err)
	}
	return nil
}

func putSourceState(b *bolt.Bucket, st model.SourceState) error {
	if err := checkName("source name", st.Name); err != nil {
		return err
	}
	return putJSON(b, []byte(st.Name), st)
}

// checkName rejects names that cannot be the first part of a composite key.
func checkName(what, name string) error {
	if name == "" {
		return errors.New(what + " is empty")
	}
	if strings.IndexByte(name, sep) >= 0 {
		return fmt.Errorf("%s %q contains a NUL byte", what, name)
	}
	return nil
}
