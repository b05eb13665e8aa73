package rules

// automaton is an Aho-Corasick matcher over bytes, compiled to a complete
// DFA: scanning costs one table lookup per input byte whatever the number
// of patterns. Bytes that occur in no pattern share one column (class 0),
// so the table has states × (distinct pattern bytes + 1) entries.
//
// It is immutable after build and safe for concurrent use.
type automaton struct {
	class  [256]uint8
	nclass int32
	delta  []int32 // delta[state*nclass+class] = next state
	// outs[state] lists the patterns that end at state, including those
	// reached through failure links (flattened at build time).
	outStart []int32 // per state, index into outList; outStart[s+1] ends it
	outList  []int32
	plen     []int32 // pattern lengths in bytes
}

// buildAutomaton compiles patterns (non-empty byte strings; duplicates
// allowed, each keeps its own id).
func buildAutomaton(patterns []string) *automaton {
	a := &automaton{}
	used := [256]bool{}
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	a.nclass = 1
	for b := range 256 {
		if used[b] {
			a.class[b] = uint8(a.nclass)
			a.nclass++
		}
	}
	// Patterns are normalised text: valid UTF-8 without control bytes, so
	// bytes 0x00-0x1f, 0xc0, 0xc1 and 0xf5-0xff never occur and at most
	// 222 classes exist; uint8 classes cannot overflow.
	nc := int(a.nclass)
	newState := func() int32 {
		s := int32(len(a.delta) / nc)
		for range nc {
			a.delta = append(a.delta, -1)
		}
		return s
	}
	newState() // root 0
	ends := [][]int32{nil}
	a.plen = make([]int32, len(patterns))
	for id, p := range patterns {
		a.plen[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(a.class[p[i]])
			next := a.delta[int(s)*nc+c]
			if next < 0 {
				next = newState()
				ends = append(ends, nil)
				a.delta[int(s)*nc+c] = next
			}
			s = next
		}
		ends[s] = append(ends[s], int32(id))
	}
	n := len(ends)
	fail := make([]int32, n)
	outs := make([][]int32, n)
	queue := make([]int32, 0, n)
	for c := range nc {
		t := a.delta[c]
		if t < 0 {
			a.delta[c] = 0
			continue
		}
		fail[t] = 0
		queue = append(queue, t)
	}
	outs[0] = ends[0]
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(append([]int32(nil), ends[s]...), outs[fail[s]]...)
		for c := range nc {
			i := int(s)*nc + c
			t := a.delta[i]
			if t < 0 {
				a.delta[i] = a.delta[int(fail[s])*nc+c]
				continue
			}
			fail[t] = a.delta[int(fail[s])*nc+c]
			queue = append(queue, t)
		}
	}
	a.outStart = make([]int32, n+1)
	for s := range n {
		a.outStart[s] = int32(len(a.outList))
		a.outList = append(a.outList, outs[s]...)
	}
	a.outStart[n] = int32(len(a.outList))
	return a
}

// scan calls found(pattern, start, end) for every occurrence of every
// pattern in s, in order of end offset.
func (a *automaton) scan(s string, found func(id int32, start, end int)) {
	nc := int(a.nclass)
	state := int32(0)
	for i := 0; i < len(s); i++ {
		state = a.delta[int(state)*nc+int(a.class[s[i]])]
		if lo, hi := a.outStart[state], a.outStart[state+1]; lo < hi {
			for _, id := range a.outList[lo:hi] {
				found(id, i+1-int(a.plen[id]), i+1)
			}
		}
	}
}
