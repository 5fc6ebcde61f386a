package fhirclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile and broken FHIR servers: each ends in a clear error, in bounded
// time and memory, and the client stays usable.

// trickleBundle answers 200 at once and then sends a Bundle one byte every
// 20 ms, never finishing.
func trickleBundle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", ctFHIR)
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","entry":[`)
	fl.Flush()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func TestTricklingServer(t *testing.T) {
	t.Run("times out", func(t *testing.T) {
		fc, _ := stub(t, trickleBundle, Options{Timeout: 300 * time.Millisecond})
		start := time.Now()
		_, err := fc.Search(t.Context(), "Patient", nil)
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer in time") {
			t.Fatalf("error %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
		entries := fc.Log().Entries()
		if len(entries) != 1 || entries[0].Error == "" || entries[0].Status != 200 {
			t.Errorf("log %+v, want the request with its error", entries)
		}
	})
	t.Run("cancellable", func(t *testing.T) {
		fc, _ := stub(t, trickleBundle, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := fc.Search(ctx, "Patient", nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// endless streams a Bundle that never ends.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", ctFHIR)
	_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","entry":[`)
	chunk := []byte(strings.Repeat(`{"resource":{"resourceType":"Basic","id":"x"}},`, 1000))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestEndlessAnswerIsCut(t *testing.T) {
	fc, _ := stub(t, endless, Options{MaxBodyBytes: 2 << 20})
	_, err := fc.Search(t.Context(), "Patient", nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "_count") {
		t.Fatalf("error %v, want ErrTooLarge with advice", err)
	}
	e := fc.Log().Entries()[0]
	if e.Bytes > 2<<20+1 || e.Error == "" {
		t.Errorf("log entry %+v", e)
	}
}

// gzipBomb is a gzip stream of a Bundle's start followed by n MiB of zero
// bytes: one gzip member per MiB (readers inflate concatenated members as
// one stream), so it is cheap to build.
func gzipBomb(t testing.TB, n int) []byte {
	t.Helper()
	member := func(b []byte) []byte {
		var out bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return out.Bytes()
	}
	bomb := member([]byte(`{"resourceType":"Bundle","type":"searchset","id":"`))
	return append(bomb, bytes.Repeat(member(make([]byte, 1<<20)), n)...)
}

func TestGzipBomb(t *testing.T) {
	bomb := gzipBomb(t, 256) // 256 MiB of zeros in about 256 KiB
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctFHIR)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
		_, _ = w.Write(bomb)
	}

	// The transport asked for gzip and inflates transparently: the size
	// limit applies to the inflated bytes, and memory stays near the limit.
	t.Run("inflated by the transport", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(serve))
		defer srv.Close()
		const limit = 4 << 20
		fc := NewWithOptions(srv.URL+"/fhir", &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
			Options{MaxBodyBytes: limit})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := fc.Search(t.Context(), "Patient", nil)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v, want ErrTooLarge", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("allocated %d MiB reading a bomb with a %d MiB limit", alloc>>20, limit>>20)
		}
	})

	// A server that compresses without being asked: the bytes are not
	// inflated at all, and the answer is reported as not FHIR JSON.
	t.Run("sent unasked", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(serve))
		defer srv.Close()
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableCompression = true
		fc := NewWithOptions(srv.URL+"/fhir", &http.Client{Transport: tr}, Options{})
		_, err := fc.Search(t.Context(), "Patient", nil)
		if !errors.Is(err, ErrNotFHIR) || !strings.Contains(err.Error(), "not valid JSON") {
			t.Fatalf("error %v, want ErrNotFHIR", err)
		}
		if e := fc.Log().Entries()[0]; e.Bytes != int64(len(bomb)) {
			t.Errorf("read %d bytes, want the %d compressed bytes", e.Bytes, len(bomb))
		}
	})
}

// dropper serves hapi's paging but drops the connection on the page at
// offset dropAt while drop is set: with the headers and half a body sent
// (mid) or before any answer.
type dropper struct {
	hapi   *hapi
	dropAt int
	mid    bool
	drop   atomic.Bool
}

func (d *dropper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.drop.Load() && r.URL.Query().Get("_getpagesoffset") == strconv.Itoa(d.dropAt) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if d.mid {
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n", ctFHIR)
			fmt.Fprint(buf, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"half`)
			_ = buf.Flush()
		}
		_ = conn.Close()
		return
	}
	d.hapi.ServeHTTP(w, r)
}

func TestFetchAllConnectionDropped(t *testing.T) {
	for _, mid := range []bool{false, true} {
		t.Run(fmt.Sprintf("mid-body=%v", mid), func(t *testing.T) {
			d := &dropper{hapi: &hapi{total: 45}, dropAt: 20, mid: mid}
			d.drop.Store(true)
			fc, _ := stub(t, d.ServeHTTP, Options{})
			ctx := t.Context()
			partial, err := fc.SearchAll(ctx, "Patient", url.Values{"_count": {"10"}}, FetchOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			// The rows already fetched stay.
			if partial == nil || partial.Matches() != 20 {
				t.Fatalf("partial result %v, want the 20 matches of pages 1 and 2", partial)
			}
			// The error says where it stopped.
			for _, want := range []string{"page 3", "_getpagesoffset=20", "20 matches"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if next := partial.Link("next"); !strings.Contains(next, "_getpagesoffset=20") {
				t.Errorf("the partial result's next link %q is not the page that failed", next)
			}
			// The user resumes once the network is back.
			d.drop.Store(false)
			all, err := fc.FetchAll(ctx, partial, FetchOptions{})
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			ids := map[string]bool{}
			for _, e := range all.Entries {
				if e.ResourceType == "Patient" {
					if ids[e.ID] {
						t.Errorf("patient %s twice", e.ID)
					}
					ids[e.ID] = true
				}
			}
			if all.Matches() != 45 || len(ids) != 45 {
				t.Errorf("after resuming: %d matches, %d patients, want 45", all.Matches(), len(ids))
			}
		})
	}
}

// A page that fails with an HTTP error also names the page it stopped at.
func TestFetchAllServerErrorNamesThePage(t *testing.T) {
	h := &hapi{total: 30}
	fc, _ := stub(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("_getpagesoffset") == "10" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><h1>502 Bad Gateway</h1></html>")
			return
		}
		h.ServeHTTP(w, r)
	}, Options{})
	partial, err := fc.SearchAll(t.Context(), "Patient", url.Values{"_count": {"10"}}, FetchOptions{})
	if !errors.Is(err, ErrServer) || partial.Matches() != 10 {
		t.Fatalf("error %v, %d matches", err, partial.Matches())
	}
	for _, want := range []string{"page 2", "_getpagesoffset=10", "HTML page"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A next link or a redirect to another origin never gets the token: the
// fetch stops there with ErrCrossOrigin and keeps what it has.
func TestFetchAllStopsAtCrossOriginNext(t *testing.T) {
	var evilAuth atomic.Value
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilAuth.Store(r.Header.Get("Authorization"))
	}))
	defer evil.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctFHIR)
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":%q}],"entry":[{"resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}`,
			evil.URL+"/fhir/Patient?page=2")
	}))
	defer srv.Close()
	fc := New(srv.URL+"/fhir", &http.Client{Transport: &authTransport{}})
	partial, err := fc.SearchAll(t.Context(), "Patient", nil, FetchOptions{})
	if !errors.Is(err, ErrCrossOrigin) || partial.Matches() != 1 {
		t.Fatalf("error %v, %d matches", err, partial.Matches())
	}
	if v := evilAuth.Load(); v != nil {
		t.Errorf("the other origin was contacted (Authorization %q)", v)
	}
}

// opaqueTransport adds an opaque (not JWT-shaped) bearer token below the
// client, as oauth2.Transport does.
type opaqueTransport struct{ token string }

func (o opaqueTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+o.token)
	return http.DefaultTransport.RoundTrip(r)
}

// A server that echoes the request's credential — in an OperationOutcome,
// an error page or a resource — does not get it onto the screen: the
// credential the request carried is removed from the answer.
func TestEchoedCredentialIsRemoved(t *testing.T) {
	const token = "opaque-7f3a9c2e5b1d4f60"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", ctFHIR)
		switch r.URL.Path {
		case "/fhir/Observation":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, outcomeJSON("error", "security", "token "+tok+" lacks a scope"))
		case "/fhir/Condition":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "you sent "+tok)
		default:
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"1","name":[{"text":"%s"}]}}]}`, tok)
		}
	}))
	defer srv.Close()
	fc := New(srv.URL+"/fhir", &http.Client{Transport: opaqueTransport{token}})
	b, err := fc.Search(t.Context(), "Patient", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b.Entries[0].Resource), token) {
		t.Errorf("the resource holds the token: %s", b.Entries[0].Resource)
	}
	for _, typ := range []string{"Observation", "Condition"} {
		_, err := fc.Search(t.Context(), typ, nil)
		var he *HTTPError
		if !errors.As(err, &he) {
			t.Fatalf("%s: %v", typ, err)
		}
		if all := fmt.Sprintf("%v %+v %+v", err, *he, he.Outcome); strings.Contains(all, token) {
			t.Errorf("%s: the error holds the token: %s", typ, all)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("%s: %v does not show where the token was", typ, err)
		}
	}
}
