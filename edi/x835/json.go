package x835

import "encoding/json"

// The JSON shape is the model's own (json tags, documented in
// docs/835.md), plus the reversal links, which are pointers in Go and
// claim indices in JSON: "reversal_index" on a correction and
// "correction_index" on a reversal.

type claimFields ClaimPayment // ClaimPayment without its JSON methods

type claimJSON struct {
	*claimFields
	ReversalIndex   *int `json:"reversal_index,omitempty"`
	CorrectionIndex *int `json:"correction_index,omitempty"`
}

// MarshalJSON writes the claim with its reversal links as indices.
func (c *ClaimPayment) MarshalJSON() ([]byte, error) {
	v := claimJSON{claimFields: (*claimFields)(c)}
	if c.Reversal != nil {
		i := c.Reversal.Index
		v.ReversalIndex = &i
	}
	if c.Correction != nil {
		i := c.Correction.Index
		v.CorrectionIndex = &i
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes. The links are restored by
// Remittance.UnmarshalJSON, which sees all the claims.
func (c *ClaimPayment) UnmarshalJSON(b []byte) error {
	v := claimJSON{claimFields: (*claimFields)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.reversalIdx, c.correctionIdx = 0, 0
	if v.ReversalIndex != nil {
		c.reversalIdx = *v.ReversalIndex + 1
	}
	if v.CorrectionIndex != nil {
		c.correctionIdx = *v.CorrectionIndex + 1
	}
	return nil
}

type remittanceFields Remittance

// UnmarshalJSON reads a remittance and reconnects its claims: each
// claim's Remittance, and the Reversal/Correction links by claim index.
func (r *Remittance) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*remittanceFields)(r)); err != nil {
		return err
	}
	byIndex := make(map[int]*ClaimPayment, len(r.Claims))
	for _, c := range r.Claims {
		if c != nil {
			byIndex[c.Index] = c
		}
	}
	for _, c := range r.Claims {
		if c == nil {
			continue
		}
		c.Remittance = r
		if c.reversalIdx > 0 {
			c.Reversal = byIndex[c.reversalIdx-1]
		}
		if c.correctionIdx > 0 {
			c.Correction = byIndex[c.correctionIdx-1]
		}
		c.reversalIdx, c.correctionIdx = 0, 0
	}
	return nil
}
