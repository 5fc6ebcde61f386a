// Package labelprof sums a runtime/pprof CPU profile by the value of one
// pprof label, reading the profile.proto format with protowire (no pprof
// library needed).
package labelprof

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Sum returns the CPU time of the profile's samples grouped by the value
// of label key ("" for samples without it), and their total.
func Sum(profile []byte, key string) (map[string]time.Duration, time.Duration, error) {
	data := profile
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, 0, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, 0, err
		}
	}
	var samples []parsedSample
	var strs []string
	var valueTypes int
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		data = data[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return nil, 0, protowire.ParseError(n)
			}
			data = data[n:]
			continue
		}
		b, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		data = data[n:]
		switch num {
		case 1: // sample_type
			valueTypes++
		case 2: // sample
			s, err := parseSample(b)
			if err != nil {
				return nil, 0, err
			}
			samples = append(samples, s)
		case 6: // string_table
			strs = append(strs, string(b))
		}
	}
	if valueTypes < 2 {
		return nil, 0, errors.New("not a CPU profile (want samples/count and cpu/nanoseconds)")
	}
	str := func(i int64) string {
		if i < 0 || int(i) >= len(strs) {
			return ""
		}
		return strs[i]
	}
	out := map[string]time.Duration{}
	var total time.Duration
	for _, s := range samples {
		if len(s.values) < 2 {
			continue
		}
		d := time.Duration(s.values[1])
		v := ""
		for _, l := range s.labels {
			if str(l[0]) == key {
				v = str(l[1])
			}
		}
		out[v] += d
		total += d
	}
	return out, total, nil
}

// parsedSample is a sample's values and labels (key and string indexes
// into the string table).
type parsedSample struct {
	values []int64
	labels [][2]int64
}

func parseSample(b []byte) (parsedSample, error) {
	var s parsedSample
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return s, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 2 && typ == protowire.BytesType: // packed values
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return s, protowire.ParseError(n)
			}
			b = b[n:]
			for len(p) > 0 {
				v, m := protowire.ConsumeVarint(p)
				if m < 0 {
					return s, protowire.ParseError(m)
				}
				p = p[m:]
				s.values = append(s.values, int64(v))
			}
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return s, protowire.ParseError(n)
			}
			b = b[n:]
			s.values = append(s.values, int64(v))
		case num == 3 && typ == protowire.BytesType: // label
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return s, protowire.ParseError(n)
			}
			b = b[n:]
			var key, str int64
			for len(p) > 0 {
				f, t, m := protowire.ConsumeTag(p)
				if m < 0 {
					return s, protowire.ParseError(m)
				}
				p = p[m:]
				if t != protowire.VarintType {
					m = protowire.ConsumeFieldValue(f, t, p)
					if m < 0 {
						return s, protowire.ParseError(m)
					}
					p = p[m:]
					continue
				}
				v, m := protowire.ConsumeVarint(p)
				if m < 0 {
					return s, protowire.ParseError(m)
				}
				p = p[m:]
				switch f {
				case 1:
					key = int64(v)
				case 2:
					str = int64(v)
				}
			}
			s.labels = append(s.labels, [2]int64{key, str})
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return s, fmt.Errorf("sample: %w", protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return s, nil
}
