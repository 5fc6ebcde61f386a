// Package fhirclient is the FHIR REST client of Care Connect Explorer: it
// reads a server's capabilities, searches and pages through resources,
// reads resources, Binary content and attachments, opens saved files, and
// turns what comes back into rows with Care Connect columns. It keeps a
// redacted log of every request (RequestLog).
//
// It takes a plain *http.Client (one that adds the Bearer token, for
// example) or an oauth2.TokenSource, so it can talk to any server, and
// never imports Fyne or the app's other packages. The Authorization header
// never leaves the server's origin: redirects and paging links to another
// origin fail with ErrCrossOrigin.
//
// # Rows fast, typed parsing later
//
// The typed parse with google/fhir's jsonformat takes about 14 times as
// long as decoding the same JSON into map[string]any, and the table must
// be ready in at most twice that time. So the path from "response arrived"
// to "rows on screen" never runs jsonformat:
//
//  1. DecodeBundle decodes the whole response once, in a single pass, into
//     a lean JSON tree (see node): strings are substrings of one copy of
//     the input, nodes are carved out of a few large blocks, and the raw
//     text of every entry is kept. This costs well under encoding/json's
//     map[string]any decode (BenchmarkRowsVsEncodingJSON10k reports the
//     ratio; about 0.4 on the development machines).
//  2. Rows evaluates one declarative column description per resource type
//     (ColumnsFor) on that tree. The descriptions are paths over the JSON
//     field names, which STU3 and R4 share; "|" alternatives cover renamed
//     fields, and values are rendered by their shape (a CodeableConcept,
//     a Quantity, a Period, a bare code), not by their declared type, so
//     the same description gives the same cells on both releases
//     (TestColumnsSameOnSTU3AndR4) without per-version copies.
//  3. The typed parse runs per entry, lazily (Entry.Parse, cached) or in
//     the background for a whole bundle (Bundle.Validate), with the
//     jsonformat unmarshaller for the server's FHIR version (read from the
//     CapabilityStatement). An entry jsonformat rejects keeps its row and
//     raw JSON; the parser's messages become its Warnings.
//
// Walking jsonformat's protos with protoreflect would also give one
// generic description, but only after the typed parse, which is exactly
// the cost the rows cannot afford.
package fhirclient
