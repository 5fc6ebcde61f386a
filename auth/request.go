package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RequestTimeout bounds each token, revocation and key-set (JWKS) request,
// whatever the caller's context allows: a server that never answers, or
// trickles its answer a byte at a time, cannot hold a log-in, a renewal or
// a log-out for ever. Discovery has its own bound per step
// (Discoverer.StepTimeout).
const RequestTimeout = 60 * time.Second

// requestTimeout is RequestTimeout; tests shorten it.
var requestTimeout = RequestTimeout

// ErrServerTimedOut is returned when a token, revocation or JWKS request got
// no complete answer within RequestTimeout. It is not ErrTimedOut, which
// means the user did not finish a browser log-in in time.
var ErrServerTimedOut = errors.New("the server did not answer in time")

// bounded runs one request with ctx bounded by requestTimeout. When that
// bound (and not ctx) ended the request, the error is ErrServerTimedOut;
// when ctx ended it, the error wraps ErrCancelled or ErrTimedOut even where
// x/oauth2 flattened the context error into text.
func bounded[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	d := requestTimeout
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := fn(rctx)
	if err == nil {
		return v, nil
	}
	var zero T
	switch {
	case ctx.Err() != nil:
		return zero, contextError(ctx.Err())
	case rctx.Err() != nil:
		return zero, fmt.Errorf("%w (no complete answer within %v)", ErrServerTimedOut, d)
	}
	return v, err
}
