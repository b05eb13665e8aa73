package storage

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

func TestDecisionLog(t *testing.T) {
	s := openTest(t)
	var appended []model.Decision
	err := s.Update(func(tx *Tx) error {
		for i, d := range []model.Decision{
			{CandidateID: "c1", Action: model.ActionAccept},
			{CandidateID: "c2", Action: model.ActionReject},
			{CandidateID: "c1", Action: model.ActionEdit},
			{CandidateID: "c10", Action: model.ActionSnooze},
		} {
			d.At = t0.Add(time.Duration(i) * time.Minute)
			got, err := tx.AppendDecision(d)
			if err != nil {
				return err
			}
			appended = append(appended, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range appended {
		if d.Seq != uint64(i+1) {
			t.Errorf("decision %d got Seq %d, want %d", i, d.Seq, i+1)
		}
	}
	last := func(t *testing.T, cid string) uint64 {
		t.Helper()
		var seq uint64
		err := s.Update(func(tx *Tx) error {
			d, err := tx.LastDecision(cid)
			if d != nil {
				seq = d.Seq
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	undo := func(seq uint64) func(tx *Tx) error {
		return func(tx *Tx) error {
			d := appended[seq-1]
			d.Undone = true
			return tx.PutDecision(d)
		}
	}
	steps := []struct {
		name   string
		change func(tx *Tx) error
		want   map[string]uint64 // candidate -> last not-undone seq (0 = none)
	}{
		{"initial", nil, map[string]uint64{"c1": 3, "c2": 2, "c10": 4, "": 4, "c3": 0, "c": 0}},
		{"undo the latest of c1", undo(3), map[string]uint64{"c1": 1, "c2": 2, "c10": 4, "": 4}},
		{"undo the latest of all", undo(4), map[string]uint64{"c10": 0, "": 2}},
		{"undo everything of c1", undo(1), map[string]uint64{"c1": 0, "": 2}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				if err := s.Update(st.change); err != nil {
					t.Fatal(err)
				}
			}
			for cid, want := range st.want {
				if got := last(t, cid); got != want {
					t.Errorf("LastDecision(%q) = seq %d, want %d", cid, got, want)
				}
			}
		})
	}
	t.Run("Decisions lists in order", func(t *testing.T) {
		for cid, want := range map[string][]uint64{"c1": {1, 3}, "c10": {4}, "": {1, 2, 3, 4}, "none": nil} {
			ds, err := s.Decisions(cid)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, d := range ds {
				seqs = append(seqs, d.Seq)
			}
			if !slices.Equal(seqs, want) {
				t.Errorf("Decisions(%q) = %v, want %v", cid, seqs, want)
			}
		}
		ds, _ := s.Decisions("c1")
		if !ds[0].Undone || !ds[1].Undone {
			t.Errorf("undone flags not stored: %+v", ds)
		}
	})
	t.Run("bad writes", func(t *testing.T) {
		for name, fn := range map[string]func(tx *Tx) error{
			"put unknown seq": func(tx *Tx) error { return tx.PutDecision(model.Decision{Seq: 99, CandidateID: "c1"}) },
			"put moves candidate": func(tx *Tx) error {
				d := appended[0]
				d.CandidateID = "c2"
				return tx.PutDecision(d)
			},
			"append without candidate": func(tx *Tx) error {
				_, err := tx.AppendDecision(model.Decision{Action: model.ActionAccept})
				return err
			},
		} {
			err := s.Update(fn)
			if err == nil {
				t.Errorf("%s succeeded", name)
			}
			if name == "put unknown seq" && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
	})
}
