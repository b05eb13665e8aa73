package notify_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tierwatch/tierwatch/model"
	"github.com/tierwatch/tierwatch/notify"
	"github.com/tierwatch/tierwatch/notify/notifytest"
)

func TestOutboxAdmin(t *testing.T) {
	ob := notifytest.NewOutbox()
	a := ob.Enqueue(model.OutboxRecord{Dest: "hook", Event: model.AlertCreated, CandidateID: "c1"})
	b := ob.Enqueue(model.OutboxRecord{Dest: "hook", Event: model.AlertCreated, CandidateID: "c2"})
	c := ob.Enqueue(model.OutboxRecord{Dest: "chan", Event: model.AlertSourceDown, Source: "sam"})
	for _, id := range []string{a.ID, c.ID} {
		ob.OutboxResult(id, func(r *model.OutboxRecord) { r.State, r.Attempts, r.LastError = model.OutboxDead, 12, "500 forever" })
	}
	tests := []struct {
		name    string
		run     func() (int, error)
		wantN   int
		wantErr string
		dead    int
	}{
		{"retry a pending record is an error", func() (int, error) { return notify.RetryOutbox(ob, b.ID, t0) }, 0, "not dead", 2},
		{"retry one", func() (int, error) { return notify.RetryOutbox(ob, a.ID, t0) }, 1, "", 1},
		{"retry all dead", func() (int, error) { return notify.RetryOutbox(ob, "", t0) }, 1, "", 0},
		{"drop", func() (int, error) { return 0, notify.DropOutbox(ob, c.ID) }, 0, "", 0},
		{"drop unknown", func() (int, error) { return 0, notify.DropOutbox(ob, "nope") }, 0, "not found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.run()
			if n != tt.wantN || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %d, %v; want %d, error %q", n, err, tt.wantN, tt.wantErr)
			}
			if dead, _ := ob.Outbox(model.OutboxDead); len(dead) != tt.dead {
				t.Errorf("%d dead, want %d", len(dead), tt.dead)
			}
		})
	}
	got, _ := ob.Outbox("")
	if len(got) != 2 || got[0].Attempts != 0 || got[0].State != model.OutboxPending {
		t.Errorf("after retry: %+v", got)
	}
	var table, js bytes.Buffer
	if err := notify.ListOutbox(&table, got, false); err != nil || !strings.Contains(table.String(), a.ID) || !strings.Contains(table.String(), "DEST") {
		t.Errorf("table = %q, %v", table.String(), err)
	}
	dead, err := ob.Outbox(model.OutboxDead)
	if err != nil {
		t.Fatal(err)
	}
	var recs []model.OutboxRecord
	if err := notify.ListOutbox(&js, dead, true); err != nil || json.Unmarshal(js.Bytes(), &recs) != nil || len(recs) != 0 {
		t.Errorf("json = %q, %v", js.String(), err)
	}
}
