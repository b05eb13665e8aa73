package monitor

import (
	"errors"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// ErrBudgetExhausted is returned (inside a FetchError of class
// rate_limited) when a source has used its daily request budget.
var ErrBudgetExhausted = errors.New("daily request budget used up")

// budgetDay is the budget's day: quotas such as SAM.gov's renew at
// midnight UTC.
func budgetDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// UntilRenewal is the time from now to the next UTC midnight, when SAM.gov
// quotas and tierwatch's daily budgets renew.
func UntilRenewal(now time.Time) time.Duration {
	u := now.UTC()
	next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return next.Sub(u)
}

// BudgetLeft returns the requests left today for a source with the given
// daily budget, or -1 when it has no budget.
func BudgetLeft(budget int, st model.SourceState, now time.Time) int {
	if budget <= 0 {
		return -1
	}
	if st.BudgetDay != budgetDay(now) {
		return budget
	}
	return max(budget-st.BudgetUsed, 0)
}

// Spend takes one request from the source's daily budget. When none is
// left it returns a rate_limited FetchError whose RetryAfter is the time
// until the budget renews, so the poller backs off exactly that long.
// Adapters call it before every request, paging included.
func Spend(budget int, st *model.SourceState, now time.Time) error {
	if budget <= 0 {
		return nil
	}
	if day := budgetDay(now); st.BudgetDay != day {
		st.BudgetDay, st.BudgetUsed = day, 0
	}
	if st.BudgetUsed >= budget {
		return &FetchError{Source: st.Name, Class: model.ClassRateLimited, RetryAfter: UntilRenewal(now), Err: ErrBudgetExhausted}
	}
	st.BudgetUsed++
	return nil
}

// Exhaust marks the source's budget for today as used up: the peer said
// its quota is gone, so `tierwatch sources` shows none left. A source
// without a budget is left alone.
func Exhaust(budget int, st *model.SourceState, now time.Time) {
	if budget <= 0 {
		return
	}
	if day := budgetDay(now); st.BudgetDay != day {
		st.BudgetDay, st.BudgetUsed = day, 0
	}
	st.BudgetUsed = max(st.BudgetUsed, budget)
}
