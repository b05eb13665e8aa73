package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmcdole/gofeed"
)

// FloorOptions configure Floor.
type FloorOptions struct {
	Concurrency int // fetches at once (default 8), as the pipeline's fetch.concurrency
	// NoImageScan turns off gofeed's per-item HTML scan for a first image,
	// as tierwatch's ParseFeed does. The floor of issue 2 is gofeed with its
	// defaults (false); true gives the stricter floor of parsing alone.
	NoImageScan bool
}

// FloorResult is what Floor fetched and parsed.
type FloorResult struct {
	Feeds, Items int
	Bytes        int64
}

// NewTransport returns an HTTP transport tuned as monitor.Fetcher's
// default one (per-host idle connections, no transparent gzip), so the
// floor pays the same connection costs as the pipeline.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// Floor fetches every URL with a plain GET at opts.Concurrency and parses
// each body with gofeed, doing nothing else: the least work any poller of
// these feeds must do. It stops at the first error and returns it.
func Floor(ctx context.Context, client *http.Client, urls []string, opts FloorOptions) (FloorResult, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 8
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var items, nbytes atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			p := gofeed.NewParser()
			if opts.NoImageScan {
				p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
			}
			for u := range work {
				n, b, err := fetchParse(ctx, client, p, u)
				if err != nil {
					cancel(err)
					continue
				}
				items.Add(int64(n))
				nbytes.Add(b)
			}
		})
	}
feed:
	for _, u := range urls {
		select {
		case work <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	res := FloorResult{Feeds: len(urls), Items: int(items.Load()), Bytes: nbytes.Load()}
	if err := context.Cause(ctx); err != nil {
		return res, fmt.Errorf("floor: %w", err)
	}
	return res, nil
}

func fetchParse(ctx context.Context, client *http.Client, p *gofeed.Parser, u string) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("fetch %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("fetch %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("fetch %s: %w", u, err)
	}
	feed, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("parse %s: %w", u, err)
	}
	return len(feed.Items), int64(len(body)), nil
}
