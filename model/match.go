package model

// Match says why a rule fired on an item: every term that counted, where.
type Match struct {
	Rule    string  `json:"rule"`
	ItemKey string  `json:"item_key,omitempty"`
	Source  string  `json:"source,omitempty"`
	Weight  float64 `json:"weight"`
	Hits    []Hit   `json:"hits"`
}

// Hit is one occurrence of a term in one field of an item. Start and End are
// byte offsets into the field's normalised text (see rules.Normalize), so a
// reader can highlight Text in context.
type Hit struct {
	Term   string `json:"term"`             // the pattern as written in the rule or entity
	Entity string `json:"entity,omitempty"` // "company:amazon" when the term is an entity alias
	Field  string `json:"field"`            // "title", "summary", "content", "vendor", "agency", …
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Text   string `json:"text"` // the matched text as it appears in the field
}
