package reconcile

import "io"

// Gen835 exposes the test generator to the external benchmarks: an 835
// from partner NORIDIAN, payer 04412, of n claims G00000000, G00000001...
func Gen835(w io.Writer, n int) error { return gen835(w, n) }
