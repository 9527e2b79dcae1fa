// Package payersim simulates payers for claimgate's tests and for billing
// companies testing an integration without a real payer: it takes 837P
// files and answers them as payers do, with a 999 (or a TA1), a 277CA per
// accepted transaction set and an 835 per payment cycle.
//
// The core is usable without SFTP: New builds a Simulator from a Config
// (JSON, see ReadConfig) and Process answers one 837P. Submissions are
// checked with claimgate's own validator (x12 envelopes and the x837p
// checker); decisions follow each payer's policy (the scrubber's PT rules:
// 8-minute rule units, GP, NCCI pairs, prior authorization, timely
// filing), duplicates of paid claims, replacements and voids, a fee
// schedule with contractual and patient-responsibility adjustments, and
// seeded random rejections, denials and reversals. Random choices hash
// the seed with the claim id, so output is reproducible.
//
// Server puts the simulator behind an SFTP server (pkg/sftp over
// x/crypto/ssh) with per-payer inbound and outbound folders; Start
// returns its address and the known_hosts line pinning its host key.
//
// docs/payersim.md describes the configuration, the rules and the
// response file names.
package payersim
