package bus

// CrashAt makes s's ApplyBatch stop with an error at step ("stored":
// records written, events not published; "published": events published,
// pending marks not cleared).
func CrashAt(s *ClaimStore, step string) {
	s.crash = func(at string) error {
		if at == step {
			return errSimulatedCrash
		}
		return nil
	}
}

// WithoutCAS makes s's ApplyBatch write records without the expected
// revision: a plain put, the lost-update variant.
func WithoutCAS(s *ClaimStore) { s.noCAS = true }

// CrashOutputAt makes o's Publish stop with an error after step
// ("stored": the object is stored, not announced).
func CrashOutputAt(o *Output, step string) {
	o.crash = func(at string) error {
		if at == step {
			return errSimulatedCrash
		}
		return nil
	}
}
