package gateway

// crashAt, when set, is called at named steps of the runtime (queued,
// handed-off, ingest-before-ack, uploaded, submitted, reconciled); the
// crash tests build the binary with -tags crashpoints so that
// CLAIMGATE_CRASH_AT=STEP[:N] kills the process there.
var crashAt func(step string)

func crash(step string) {
	if crashAt != nil {
		crashAt(step)
	}
}
