package bench

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// GenOptions shape the generated feeds. Zero values take the defaults.
type GenOptions struct {
	Items int // items per feed (default 50)
	// NewPerChange is how many new items a changed feed gains (and old
	// ones it drops) per version; default Items/10, at least 1.
	NewPerChange int
	// MatchShare is the share of items written to match the shipped rules
	// pack (default 0.02). Matching items repeat one of a few events, so
	// items of several feeds join one candidate as syndicated stories do.
	MatchShare float64
	Seed       uint64 // default 1
}

func (o GenOptions) withDefaults() GenOptions {
	if o.Items <= 0 {
		o.Items = 50
	}
	if o.NewPerChange <= 0 {
		o.NewPerChange = max(1, o.Items/10)
	}
	if o.MatchShare <= 0 {
		o.MatchShare = 0.02
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Generator writes RSS 2.0 feeds. Feed f at version v lists items
// v*NewPerChange … v*NewPerChange+Items-1, newest first, so each version
// adds NewPerChange items and drops as many. A Generator is immutable and
// safe for concurrent use; the same options, feed and version always give
// the same bytes.
type Generator struct {
	opts      GenOptions
	sentences []string // plain sentences, some with an inline link
	titles    []string
	authors   []string
}

// base is the publication time of item 0; later items are an hour apart.
// It lies in the past so the normaliser keeps the feeds' own dates.
var base = time.Date(2025, 9, 1, 6, 0, 0, 0, time.UTC)

// words is neutral news vocabulary: none of it is a term of the shipped
// rules pack (no agencies, companies, policing or biometrics), so only the
// items written to match do.
var words = strings.Fields(`council budget city school river harbour museum festival
	library tram railway election mayor minister parliament senate committee report
	study researchers university hospital clinic doctors nurses patients farmers
	harvest market prices inflation wages workers union strike factory plant energy
	solar wind grid battery storage water drought rainfall forecast weather coast
	tourism hotel airline airport flights passengers travel holiday season summer
	winter spring autumn bridge tunnel road highway traffic cyclists pedestrians park
	garden trees forest wildlife species birds whales fishing boats port shipping
	cargo trade exports imports tariffs economy growth jobs startup investors bank
	loan mortgage housing rent tenants landlords construction architects design
	artists gallery theatre concert orchestra film director actors novel author
	publisher newspaper radio television broadcast streaming music album band tour
	league match season coach players stadium fans referee final trophy record
	athletes marathon olympic swimming cycling tennis football basketball cricket
	science space telescope planet mission rocket satellite launch climate carbon
	emissions recycling waste plastic ocean glacier volcano earthquake museum archive
	history century discovery ancient excavation heritage language culture food
	restaurant chef recipe bakery coffee wine vineyard cheese bread village town
	region province county district neighbourhood residents community volunteers
	charity donation fund grant scholarship students teachers classroom exam
	curriculum parents children families elderly care pension retirement health
	vaccine medicine pharmacy research trial results data survey poll voters campaign
	debate policy reform plan proposal vote approval agreement talks summit leaders
	officials spokesperson statement announcement decision review inquiry audit
	spending revenue tax surplus deficit forecast quarter annual monthly weekly`)

var titleVerbs = strings.Fields(`approves rejects delays expands opens closes
	plans unveils reviews backs doubles cuts launches debates celebrates marks`)

// Matching stories are composed from these parts: "<company> <deal>
// <agency> <object> in <place>". Every such title names a company of the
// watch list and a DHS component, so it matches dhs-vendors (and Amazon's
// also amazon-ice) in examples/rules/watch.yaml, as the package tests check.
// The titles are formulaic, as real headlines are: two events of one
// company sharing a deal or an object are similar enough for the grouper
// to join them, so candidates grow large (at 2,000 feeds, 250 stories
// make 26 candidates of up to 208 sources). That makes the benchmark a
// stress test of large candidates; grouping quality is measured by the
// labelled eval set, not here.
var (
	hotCompanies = []string{"Amazon Web Services", "Palantir", "Microsoft", "Anduril", "Clearview AI",
		"Cellebrite", "Deloitte", "GEO Group", "Salesforce", "LexisNexis", "Axon Enterprise", "Flock Safety"}
	hotDeals    = []string{"wins", "expands", "renews", "loses", "bids for", "signs"}
	hotAgencies = []string{"ICE", "Customs and Border Protection", "Homeland Security", "USCIS",
		"Border Patrol", "Immigration and Customs Enforcement"}
	hotObjects = []string{"contract for detention data", "deal for deportation case software",
		"surveillance contract", "task order for enforcement analytics", "cloud hosting contract",
		"biometrics database contract", "license plate reader contract", "phone extraction contract"}
	hotPlaces = strings.Fields(`Texas Arizona Georgia Florida California Nevada Oregon Ohio Virginia
		Colorado Illinois Michigan Utah Idaho Iowa Kansas Maine Montana Vermont Alabama Louisiana
		Tennessee Kentucky Oklahoma`)
)

// syndication is how many neighbouring feeds carry each matching story,
// as wire stories appear in several outlets.
const syndication = 8

// NewGenerator returns a Generator; its word pools are drawn from opts.Seed.
func NewGenerator(opts GenOptions) *Generator {
	opts = opts.withDefaults()
	r := rand.New(rand.NewPCG(opts.Seed, 0x7e1e))
	g := &Generator{opts: opts}
	pick := func() string { return words[r.IntN(len(words))] }
	for range 4096 {
		var b strings.Builder
		n := 12 + r.IntN(12)
		link := r.IntN(3) == 0
		for j := range n {
			w := pick()
			if j == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			} else {
				b.WriteByte(' ')
			}
			if link && j == n/2 {
				b.WriteString(`<a href="https://example.org/topic/` + w + `">` + w + `</a>`)
				continue
			}
			b.WriteString(w)
		}
		b.WriteString(".")
		g.sentences = append(g.sentences, b.String())
	}
	for range 2048 {
		subj := pick()
		t := strings.ToUpper(subj[:1]) + subj[1:] + " " + pick() + " " +
			titleVerbs[r.IntN(len(titleVerbs))] + " " + pick() + " " + pick() + " " + pick()
		if r.IntN(2) == 0 {
			t += " for " + pick() + " " + pick()
		}
		g.titles = append(g.titles, t)
	}
	first := strings.Fields("Ana Ben Chloe Dev Eli Fatima Greta Hugo Ines Jonas Kemi Lars Maya Noor Omar Priya")
	last := strings.Fields("Silva Okafor Novak Brennan Haddad Lindqvist Moreau Tanaka Costa Walsh Reyes Berg")
	for _, f := range first {
		for _, l := range last {
			g.authors = append(g.authors, f+" "+l)
		}
	}
	return g
}

// Options returns the generator's options with defaults applied.
func (g *Generator) Options() GenOptions { return g.opts }

// mix is splitmix64's finaliser: a cheap, well-spread hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (g *Generator) itemHash(feed, id int) uint64 {
	return mix(g.opts.Seed ^ mix(uint64(feed)<<32|uint64(uint32(id))))
}

// eventHash identifies the story at item id of feed's syndication cluster.
func (g *Generator) eventHash(feed, id int) uint64 {
	return mix(g.opts.Seed ^ 0x5eed ^ mix(uint64(feed/syndication)<<32|uint64(uint32(id))))
}

// IsMatching reports whether item id of feed is written to match the rules.
// The feeds of one cluster of syndication neighbours carry the same
// matching story at the same id.
func (g *Generator) IsMatching(feed, id int) bool {
	return float64(g.eventHash(feed, id)%1_000_000) < g.opts.MatchShare*1_000_000
}

// hotTitle returns the title and lead sentence of a matching story.
func hotTitle(e uint64) (title, lead string) {
	pick := func(list []string, shift uint) string { return list[(e>>shift)%uint64(len(list))] }
	agency := pick(hotAgencies, 28)
	title = pick(hotCompanies, 20) + " " + pick(hotDeals, 24) + " " + agency + " " +
		pick(hotObjects, 32) + " in " + pick(hotPlaces, 40)
	lead = "The agreement with " + agency + " was disclosed in procurement records this week."
	return title, lead
}

// ItemIDs returns the first (oldest) and last item ids of feed version v.
func (g *Generator) ItemIDs(v int) (first, last int) {
	first = v * g.opts.NewPerChange
	return first, first + g.opts.Items - 1
}

// AppendFeed appends the RSS document of feed at version v to dst.
func (g *Generator) AppendFeed(dst []byte, feed, v int) []byte {
	fs := strconv.Itoa(feed)
	dst = append(dst, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Bench Outlet `...)
	dst = append(dst, fs...)
	dst = append(dst, "</title>\n<link>https://www.outlet"...)
	dst = append(dst, fs...)
	dst = append(dst, ".example/</link>\n<description>Generated news for tierwatch bench</description>\n<language>en</language>\n"...)
	first, last := g.ItemIDs(v)
	for id := last; id >= first; id-- {
		dst = g.appendItem(dst, fs, feed, id)
	}
	return append(dst, "</channel>\n</rss>\n"...)
}

func (g *Generator) appendItem(dst []byte, fs string, feed, id int) []byte {
	h := g.itemHash(feed, id)
	hot := g.IsMatching(feed, id)
	var title, lead string
	if hot {
		title, lead = hotTitle(g.eventHash(feed, id))
	} else {
		title = g.titles[h%uint64(len(g.titles))]
	}
	pub := base.Add(time.Duration(id)*time.Hour - time.Duration(feed%60)*time.Minute)
	ids := strconv.Itoa(id)

	dst = append(dst, "<item>\n<title>"...)
	dst = append(dst, title...)
	dst = append(dst, "</title>\n<link>https://www.outlet"...)
	dst = append(dst, fs...)
	dst = append(dst, ".example/"...)
	dst = pub.AppendFormat(dst, "2006/01/02")
	dst = append(dst, "/story-"...)
	dst = append(dst, ids...)
	dst = append(dst, "?utm_source=rss&amp;utm_medium=feed</link>\n<guid isPermaLink=\"false\">outlet"...)
	dst = append(dst, fs...)
	dst = append(dst, "-story-"...)
	dst = append(dst, ids...)
	dst = append(dst, "</guid>\n<pubDate>"...)
	dst = pub.AppendFormat(dst, time.RFC1123Z)
	dst = append(dst, "</pubDate>\n<dc:creator>"...)
	dst = append(dst, g.authors[(h>>12)%uint64(len(g.authors))]...)
	dst = append(dst, "</dc:creator>\n<category>"...)
	dst = append(dst, words[(h>>20)%uint64(len(words))]...)
	dst = append(dst, "</category>\n<description><![CDATA[<p>"...)
	if lead != "" {
		dst = append(dst, lead...)
		dst = append(dst, ' ')
	}
	n := uint64(len(g.sentences))
	dst = append(dst, g.sentences[(h>>24)%n]...)
	dst = append(dst, ' ')
	dst = append(dst, g.sentences[(h>>36)%n]...)
	dst = append(dst, "</p>\n<p>"...)
	dst = append(dst, g.sentences[(h>>48)%n]...)
	dst = append(dst, "</p>]]></description>\n</item>\n"...)
	return dst
}
