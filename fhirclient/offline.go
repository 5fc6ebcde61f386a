package fhirclient

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxFileBytes bounds the size of a file opened offline.
const MaxFileBytes = 256 << 20

// OpenFile opens a saved Bundle or resource JSON file to browse like a
// search result: a Bundle as it is, a single resource as a one-entry
// Bundle. XML files fail with ErrXMLNotSupported.
func OpenFile(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("open %s: %w (more than %d MB)", filepath.Base(path), ErrTooLarge, MaxFileBytes>>20)
	}
	b, err := DecodeFile(path, data)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeFile is OpenFile for data already read; name is used in messages
// and as the Bundle's Source.
func DecodeFile(name string, data []byte) (*Bundle, error) {
	base := filepath.Base(name)
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("open %s: the file is empty", base)
	case trimmed[0] == '<' || strings.EqualFold(filepath.Ext(name), ".xml"):
		return nil, fmt.Errorf("open %s: %w; save the resource as JSON", base, ErrXMLNotSupported)
	}
	root, err := parseJSON(string(data))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %w", base, ErrNotFHIR, err)
	}
	rt := root.str("resourceType")
	if root.k != kObject || rt == "" {
		return nil, fmt.Errorf("open %s: %w: the JSON has no resourceType", base, ErrNotFHIR)
	}
	var b *Bundle
	if rt == "Bundle" {
		b = bundleFrom(data, &root, VersionUnknown)
	} else {
		e := singleEntry(data, &root, VersionUnknown)
		b = &Bundle{Links: map[string]string{}, Entries: []Entry{e}, Version: e.st.version, Size: len(data)}
	}
	b.Source = name
	return b, nil
}
