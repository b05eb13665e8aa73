package monitor

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tierwatch/tierwatch/model"
)

// Version is reported in the default User-Agent; the build may override it
// with -ldflags "-X github.com/tierwatch/tierwatch/monitor.Version=…".
var Version = "dev"

// Defaults for FetchOptions' zero values.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBytes       = 10 << 20
	DefaultMaxRedirects   = 5
)

// acceptFeeds prefers feed media types but takes anything: many servers
// label feeds text/html or application/octet-stream.
const acceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

// FetchOptions configure a Fetcher. Zero values take the defaults above.
type FetchOptions struct {
	Timeout        time.Duration // total per request, body included (default 30s)
	ConnectTimeout time.Duration // dial and TLS handshake (default 10s)
	MaxBytes       int64         // body cap after decompression (default 10 MiB)
	MaxRedirects   int           // redirects followed per request (default 5)
	// UserAgent defaults to "tierwatch/<Version> (+https://github.com/tierwatch/tierwatch)".
	UserAgent string
	// Transport replaces the default transport (tests). The Fetcher asks for
	// gzip itself, so a transport's transparent decompression never runs.
	Transport http.RoundTripper
	// Now is the clock used for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Fetcher fetches sources over HTTP(S) or from file:// URLs. It owns one
// http.Client. It is safe for concurrent use.
type Fetcher struct {
	opts   FetchOptions
	client *http.Client
	log    *slog.Logger
}

// NewFetcher returns a Fetcher with opts' zero values defaulted. A nil log
// discards.
func NewFetcher(opts FetchOptions, log *slog.Logger) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "tierwatch/" + Version + " (+https://github.com/tierwatch/tierwatch)"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := opts.Transport
	if tr == nil {
		dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
		tr = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   opts.ConnectTimeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			// We decode gzip ourselves so the size cap counts decoded bytes.
			DisableCompression: true,
		}
	}
	f := &Fetcher{opts: opts, log: log}
	f.client = &http.Client{Transport: tr, CheckRedirect: f.checkRedirect}
	return f
}

// Request is one fetch. Only URL is required.
type Request struct {
	// Source names the configured source in errors and logs; optional.
	Source string
	URL    string
	// ETag and LastModified are the validators of the last 200 response;
	// when set they are sent as If-None-Match and If-Modified-Since.
	ETag, LastModified string
	Method             string      // default GET
	Body               []byte      // request body, for POST APIs
	Header             http.Header // extra headers; they may override Accept, not Accept-Encoding
}

// Response is a successful fetch. Body is owned by the caller.
type Response struct {
	// NotModified is true for a 304 (or an unchanged file); Body is then
	// empty and the validators are those of the request when the server sent
	// none.
	NotModified bool
	Body        []byte
	ContentType string
	// ETag and LastModified are the validators to persist for the next fetch.
	ETag, LastModified string
	// FinalURL is the URL after redirects. It is not redacted: redact it
	// before logging.
	FinalURL string
	Status   int
}

// errRedirectLoop and errTooManyRedirects end a redirect chain; they carry no
// URL so errors stay free of secrets.
var (
	errRedirectLoop     = errors.New("redirect loop")
	errTooManyRedirects = errors.New("too many redirects")
	errRedirectScheme   = errors.New("redirect to a non-http(s) URL")
	errTooLarge         = errors.New("body exceeds the size cap")
)

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return errRedirectScheme
	}
	for _, v := range via {
		if v.URL.String() == req.URL.String() {
			return errRedirectLoop
		}
	}
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w (limit %d)", errTooManyRedirects, f.opts.MaxRedirects)
	}
	return nil
}

// timeoutCause is the cause set on a request's context when its own total
// timeout expires, to tell it apart from the caller's cancellation.
type timeoutCause struct{ d time.Duration }

func (t timeoutCause) Error() string { return fmt.Sprintf("no complete response within %s", t.d) }

// Fetch performs req. It returns a *Response for 2xx and 304 statuses, and a
// *FetchError otherwise (also for file:// failures, bad URLs and bodies over
// the size cap). When ctx is cancelled by the caller the error wraps
// context.Canceled (class network), so callers can tell shutdown from a
// failing source with errors.Is. The body is read completely, through the
// cap, before Fetch returns.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, f.fail(req, model.ClassPermanent, 0, errors.New("invalid url"))
	}
	switch u.Scheme {
	case "http", "https":
	case "file":
		return f.fetchFile(ctx, req, u)
	default:
		return nil, f.fail(req, model.ClassPermanent, 0, fmt.Errorf("unsupported url scheme %q", u.Scheme))
	}
	if u.Host == "" {
		return nil, f.fail(req, model.ClassPermanent, 0, errors.New("url has no host"))
	}
	ctx, cancel := context.WithTimeoutCause(ctx, f.opts.Timeout, timeoutCause{f.opts.Timeout})
	defer cancel()

	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, f.fail(req, model.ClassPermanent, 0, errors.New("invalid request"))
	}
	hreq.Header.Set("User-Agent", f.opts.UserAgent)
	hreq.Header.Set("Accept", acceptFeeds)
	for k, vs := range req.Header {
		hreq.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	hreq.Header.Set("Accept-Encoding", "gzip")
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	start := time.Now()
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.transportError(ctx, req, err)
	}
	defer func() {
		// Drain a little so the connection can be reused; the cap keeps a
		// hostile body from holding us.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // best effort, errors irrelevant
		_ = resp.Body.Close()                         // read side: nothing to report
	}()

	out := &Response{
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		FinalURL:     resp.Request.URL.String(),
		Status:       resp.StatusCode,
	}
	if resp.StatusCode == http.StatusNotModified {
		out.NotModified = true
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		f.log.Debug("fetch not modified", "source", req.Source, "duration", time.Since(start))
		return out, nil
	}
	if class := Classify(resp.StatusCode); class != "" {
		ra := model.ParseRetryAfter(resp.Header.Get("Retry-After"), f.opts.Now())
		if resp.StatusCode == http.StatusServiceUnavailable && ra > 0 {
			class = model.ClassRateLimited
		}
		fe := f.fail(req, class, resp.StatusCode, nil)
		fe.RetryAfter = ra
		return nil, fe
	}

	var r io.Reader = resp.Body
	if ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); ce == "gzip" || ce == "x-gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, f.bodyError(ctx, req, fmt.Errorf("read gzip header: %w", err))
		}
		defer zr.Close()
		r = zr
	} else if resp.ContentLength > f.opts.MaxBytes {
		return nil, f.fail(req, model.ClassTooLarge, 0,
			fmt.Errorf("%w: content-length %d > %d", errTooLarge, resp.ContentLength, f.opts.MaxBytes))
	}
	hint := resp.ContentLength // the decoded size is unknown under gzip
	if r != resp.Body {
		hint = -1
	}
	b, err := readCapped(r, f.opts.MaxBytes, hint)
	if err != nil {
		return nil, f.bodyError(ctx, req, err)
	}
	out.Body = b
	f.log.Debug("fetch ok", "source", req.Source, "status", resp.StatusCode,
		"bytes", len(b), "duration", time.Since(start))
	return out, nil
}

// readCapped reads r fully, failing with errTooLarge once more than max bytes
// arrive: it reads at most max+1 bytes, so a gzip bomb stops at the cap.
// hint is the expected size (Content-Length, a file's size) or -1; a
// plausible hint sizes the buffer once instead of growing it by doubling,
// but never lets more than max bytes through. Hints are trusted only up to
// maxHint, so a hostile Content-Length cannot make us allocate the whole
// cap for a body that never comes.
func readCapped(r io.Reader, max, hint int64) ([]byte, error) {
	const maxHint = 1 << 20
	lr := io.LimitReader(r, max+1)
	if hint < 0 || hint > max {
		hint = 512 // io.ReadAll's first size
	}
	hint = min(hint, maxHint)
	// One spare byte, so a body of exactly hint bytes meets EOF without a
	// reallocation.
	b := make([]byte, 0, hint+1)
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, max)
	}
	return b, nil
}

func (f *Fetcher) fail(req Request, class model.ErrorClass, status int, err error) *FetchError {
	return &FetchError{Source: req.Source, URL: RedactURL(req.URL), Class: class, Status: status, Err: err}
}

// bodyError classifies an error met while reading a response body.
// Status stays 0: the status was 2xx, the failure is the body.
func (f *Fetcher) bodyError(ctx context.Context, req Request, err error) *FetchError {
	switch {
	case errors.Is(err, errTooLarge):
		return f.fail(req, model.ClassTooLarge, 0, err)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum):
		return f.fail(req, model.ClassParse, 0, err)
	}
	return f.transportError(ctx, req, err)
}

// transportError classifies a client or body-read error and strips the
// *url.Error wrapper, whose message repeats the raw URL.
func (f *Fetcher) transportError(ctx context.Context, req Request, err error) *FetchError {
	for {
		ue, ok := err.(*url.Error)
		if !ok {
			break
		}
		err = ue.Err
	}
	if tc, ok := errors.AsType[timeoutCause](context.Cause(ctx)); ok && ctx.Err() != nil {
		return f.fail(req, model.ClassTimeout, 0, tc)
	}
	switch {
	case errors.Is(err, errRedirectLoop), errors.Is(err, errTooManyRedirects):
		return f.fail(req, model.ClassHTTPStatus, 0, err)
	case errors.Is(err, errRedirectScheme):
		return f.fail(req, model.ClassPermanent, 0, err)
	case errors.Is(err, context.Canceled):
		return f.fail(req, model.ClassNetwork, 0, err)
	case errors.Is(err, context.DeadlineExceeded):
		return f.fail(req, model.ClassTimeout, 0, err)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return f.fail(req, model.ClassTimeout, 0, err)
	}
	return f.fail(req, model.ClassNetwork, 0, err)
}

// fetchFile serves file:// URLs from disk through the same size cap. The
// validators are derived from the file's modification time and size, so an
// unchanged file answers NotModified like a 304.
func (f *Fetcher) fetchFile(ctx context.Context, req Request, u *url.URL) (*Response, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, f.fail(req, model.ClassPermanent, 0, errors.New("file url names a remote host"))
	}
	if err := ctx.Err(); err != nil {
		return nil, f.fail(req, model.ClassNetwork, 0, err)
	}
	path := u.Path
	fh, err := os.Open(path)
	if err != nil {
		return nil, f.fail(req, fileClass(err), 0, stripPath(err))
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, f.fail(req, fileClass(err), 0, stripPath(err))
	}
	if !st.Mode().IsRegular() {
		// A FIFO or device could block forever or never end.
		return nil, f.fail(req, model.ClassPermanent, 0, errors.New("not a regular file"))
	}
	out := &Response{
		ETag:         fmt.Sprintf(`"%x-%x"`, st.ModTime().UnixNano(), st.Size()),
		LastModified: st.ModTime().UTC().Format(http.TimeFormat),
		FinalURL:     req.URL,
		Status:       http.StatusOK,
	}
	if (req.ETag != "" && req.ETag == out.ETag) || (req.ETag == "" && req.LastModified != "" && req.LastModified == out.LastModified) {
		out.NotModified = true
		out.Status = http.StatusNotModified
		return out, nil
	}
	if st.Size() > f.opts.MaxBytes {
		return nil, f.fail(req, model.ClassTooLarge, 0,
			fmt.Errorf("%w: file size %d > %d", errTooLarge, st.Size(), f.opts.MaxBytes))
	}
	b, err := readCapped(fh, f.opts.MaxBytes, st.Size())
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, f.fail(req, model.ClassTooLarge, 0, err)
		}
		return nil, f.fail(req, fileClass(err), 0, stripPath(err))
	}
	out.Body = b
	return out, nil
}

func fileClass(err error) model.ErrorClass {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return model.ClassPermanent
	}
	return model.ClassNetwork // an I/O error: retry with backoff
}

// stripPath drops the path from an *fs.PathError: the redacted URL in the
// FetchError already names the file.
func stripPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
