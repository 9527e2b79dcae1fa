package scrub

import (
	"strings"

	"github.com/claimgate/claimgate/pkg/claim"
)

// dateLess orders dates without building time.Time values.
func dateLess(a, b claim.Date) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}

func hasMod(l *claim.Line, m string) bool {
	for _, x := range l.Modifiers {
		if strings.EqualFold(x, m) {
			return true
		}
	}
	return false
}

// isXMod reports whether m is one of the X{EPSU} subset modifiers of 59.
func isXMod(m string) bool {
	return len(m) == 2 && (m[0] == 'X' || m[0] == 'x') && strings.ContainsRune("EPSUepsu", rune(m[1]))
}

// hasBypass reports whether l carries 59 or an X{EPSU} modifier, the
// modifiers that bypass an NCCI pair with indicator 1.
func hasBypass(l *claim.Line) bool {
	for _, m := range l.Modifiers {
		if m == "59" || isXMod(m) {
			return true
		}
	}
	return false
}

// modRank is the position of m in the suggested order CQ, 59/X, GP, KX;
// -1 for modifiers the order says nothing about.
func modRank(m string) int {
	switch {
	case strings.EqualFold(m, "CQ"):
		return 0
	case m == "59" || isXMod(m):
		return 1
	case strings.EqualFold(m, "GP"):
		return 2
	case strings.EqualFold(m, "KX"):
		return 3
	}
	return -1
}

func isTelehealth(pos string) bool { return pos == "02" || pos == "10" }

// ---------------------------------------------------------------- claim

func (r *run) claimChecks() {
	c := r.c
	// NPIs. The billing provider's is required (2010AA NM109).
	if c.Billing.NPI == "" {
		r.add(Edit{ID: IDNPIInvalid, Severity: Reject, Field: "billing_provider.npi", Message: "billing provider NPI is missing"})
	} else if !ValidNPI(c.Billing.NPI) {
		r.add(Edit{ID: IDNPIInvalid, Severity: Reject, Field: "billing_provider.npi", Message: npiMessage("billing provider")})
	}
	if c.Rendering != nil && c.Rendering.NPI != "" && !ValidNPI(c.Rendering.NPI) {
		r.add(Edit{ID: IDNPIInvalid, Severity: Reject, Field: "rendering_provider.npi", Message: npiMessage("rendering provider")})
	}
	if c.Referring != nil && c.Referring.NPI != "" && !ValidNPI(c.Referring.NPI) {
		r.add(Edit{ID: IDNPIInvalid, Severity: Reject, Field: "referring_provider.npi", Message: npiMessage("referring provider")})
	}
	if c.Facility != nil && c.Facility.NPI != "" && !ValidNPI(c.Facility.NPI) {
		r.add(Edit{ID: IDNPIInvalid, Severity: Reject, Field: "service_facility.npi", Message: npiMessage("service facility")})
	}

	if t := c.Total(); t <= 0 {
		r.addf(IDTotalNotPositive, Reject, 0, "lines", "claim total (CLM02) is %s: it must be greater than zero", dollars(int64(t)))
	}

	// Diagnoses (HI).
	dx := c.Diagnoses
	if len(dx) > 12 {
		r.addf(IDDxTooMany, Reject, 0, "diagnoses", "%d diagnoses: an 837P carries at most 12", len(dx))
	}
	for i := 1; i < len(dx); i++ {
		for j := 0; j < i; j++ {
			if sameDx(dx[i], dx[j]) {
				r.addf(IDDxDuplicate, Reject, 0, "diagnoses", "diagnosis %d repeats diagnosis %d: list each code once", i+1, j+1)
				break
			}
		}
	}
	if len(dx) > 0 && isSequela(dx[0]) {
		r.add(Edit{ID: IDDxSequelaPrimary, Severity: Reject, Field: "diagnoses",
			Message: "the principal diagnosis is a sequela code (7th character S): list the condition treated first and the sequela code after it"})
	}

	// REF*F8 goes with corrections only.
	hasRef := strings.TrimSpace(c.OriginalRef) != ""
	switch {
	case c.Frequency.IsCorrection() && !hasRef:
		r.addf(IDOriginalRefNeeded, Reject, 0, "original_reference", "frequency %s (%s) needs the payer's claim control number of the claim it corrects (REF*F8)", c.Frequency, freqName(c.Frequency))
	case !c.Frequency.IsCorrection() && hasRef:
		r.addf(IDOriginalRefExtra, Reject, 0, "original_reference", "a payer claim number (REF*F8) is only sent with frequency 7 or 8; this claim has frequency %q: remove it or set the frequency", string(c.Frequency))
	}

	if isTelehealth(c.PlaceOfService) {
		r.addf(IDTelehealth, Warn, 0, "place_of_service", "place of service %s is telehealth: check that the payer covers PT by telehealth on these dates", c.PlaceOfService)
	}

	if m := r.p.TimelyFilingMonths; m > 0 {
		first, late := -1, 0
		for i := range c.Lines {
			d := c.Lines[i].ServiceDate
			if d.IsZero() {
				continue
			}
			if dateLess(claim.DateOf(d.Time().AddDate(0, m, 0)), r.today) {
				late++
				if first < 0 {
					first = i
				}
			}
		}
		if late > 0 {
			r.addf(IDTimelyFiling, Warn, first+1, "service_date", "%d line(s) have a service date more than %d months ago, past the payer's timely filing limit: expect a denial (CARC 29) unless an exception applies", late, m)
		}
	}
}

func npiMessage(who string) string {
	return who + " NPI is not valid: it must be 10 digits starting with 1 or 2 and its check digit must match (Luhn over 80840 + the first 9 digits)"
}

func freqName(f claim.Frequency) string {
	if f == claim.FrequencyVoid {
		return "void"
	}
	return "replacement"
}

// sameDx compares ICD-10-CM codes ignoring case, dots and surrounding
// spaces, without allocating.
func sameDx(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == '.' {
			i++
		}
		for j < len(b) && b[j] == '.' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		ca, cb := a[i], b[j]
		if ca >= 'a' && ca <= 'z' {
			ca -= 'a' - 'A'
		}
		if cb >= 'a' && cb <= 'z' {
			cb -= 'a' - 'A'
		}
		if ca != cb {
			return false
		}
		i++
		j++
	}
}

// isSequela reports whether an ICD-10-CM code has 7 characters (dots and
// spaces ignored) and the 7th is S.
func isSequela(code string) bool {
	n := 0
	var last byte
	for i := 0; i < len(code); i++ {
		if c := code[i]; c != '.' && c != ' ' {
			n++
			last = c
		}
	}
	return n == 7 && (last == 'S' || last == 's')
}

// ---------------------------------------------------------------- lines

func (r *run) lineChecks() {
	c := r.c
	birth := c.Subscriber.Birth
	if c.Patient != nil {
		birth = c.Patient.Birth
	}
	claimAuth := strings.TrimSpace(c.PriorAuth) != ""
	for i := range c.Lines {
		l := &c.Lines[i]
		n := i + 1
		code, isPT := r.s.codes.Lookup(l.Procedure)

		if l.Charge <= 0 {
			r.addf(IDChargeNotPositive, Reject, n, "charge", "line charge is %s: it must be greater than zero", dollars(int64(l.Charge)))
		}

		switch {
		case l.ServiceDate.IsZero():
			r.add(Edit{ID: IDDateMissing, Severity: Reject, Line: n, Field: "service_date", Message: "service date is missing"})
		case dateLess(r.today, l.ServiceDate):
			r.add(Edit{ID: IDDateFuture, Severity: Reject, Line: n, Field: "service_date", Message: "service date is in the future: bill services after they are furnished"})
		case !birth.IsZero() && dateLess(l.ServiceDate, birth):
			r.add(Edit{ID: IDDateBeforeBirth, Severity: Reject, Line: n, Field: "service_date", Message: "service date is before the patient's birth date: check both dates"})
		}

		r.pointers(l, n)

		if l.PlaceOfService != "" && l.PlaceOfService != c.PlaceOfService && isTelehealth(l.PlaceOfService) {
			r.addf(IDTelehealth, Warn, n, "place_of_service", "place of service %s is telehealth: check that the payer covers PT by telehealth on this date", l.PlaceOfService)
		}

		r.modifiers(l, n)

		hasGP := hasMod(l, "GP")
		if isPT && r.p.RequireGP && !hasGP {
			r.addf(IDGPMissing, Reject, n, "modifiers", "%s is a PT service: add GP (PT plan of care); without it the payer denies the line (CARC 4)", l.Procedure)
		}
		if isPT && r.p.MedicareCodeStatus {
			switch code.Medicare {
			case MedicareBundled:
				r.addf(IDMedicareBundled, Warn, n, "procedure", "Medicare bundles %s into the other services: it is not paid separately", l.Procedure)
			case MedicareInvalid:
				if code.Replacement != "" {
					r.addf(IDMedicareInvalid, Reject, n, "procedure", "%s is not valid for Medicare: bill %s instead", l.Procedure, code.Replacement)
				} else {
					r.addf(IDMedicareInvalid, Reject, n, "procedure", "%s is not valid for Medicare", l.Procedure)
				}
			}
		}

		// CQ: a PT assistant furnished the service in whole or in part.
		hasCQ := hasMod(l, "CQ")
		if isPT && r.p.CQ && !hasCQ && l.AssistantMinutes > 0 {
			switch {
			case l.Minutes <= 0:
				r.addf(IDCQMissing, Reject, n, "modifiers", "an assistant furnished %d minutes of %s and the line gives no total minutes: add CQ, or give the minutes if the assistant's share is 10%% or less", l.AssistantMinutes, l.Procedure)
			case l.AssistantMinutes*10 > l.Minutes:
				r.addf(IDCQMissing, Reject, n, "modifiers", "an assistant furnished %d of %d minutes of %s (more than 10%%): add CQ (paid at 85%%)", l.AssistantMinutes, l.Minutes, l.Procedure)
			}
		}
		if hasCQ && !hasGP {
			r.add(Edit{ID: IDCQWithoutGP, Severity: Reject, Line: n, Field: "modifiers", Message: "CQ is always billed with GP: add GP"})
		}
		if hasCQ && l.AssistantMinutes <= 0 {
			r.add(Edit{ID: IDCQNoAssistant, Severity: Warn, Line: n, Field: "assistant_minutes", Message: "CQ says an assistant furnished part of the service but the line has no assistant minutes: CQ cuts payment to 85%; remove it or give the minutes"})
		}

		if r.p.needsAuth(l.Procedure) && !claimAuth && strings.TrimSpace(l.PriorAuth) == "" {
			r.addf(IDAuthMissing, Reject, n, "prior_authorization", "the payer requires prior authorization for %s: give the authorization number on the claim (REF*G1) or the line", l.Procedure)
		}
	}
}

func (r *run) pointers(l *claim.Line, n int) {
	ptrs := l.DiagnosisPointers
	nd := len(r.c.Diagnoses)
	switch {
	case len(ptrs) == 0:
		r.add(Edit{ID: IDDxPointer, Severity: Reject, Line: n, Field: "diagnosis_pointers", Message: "line has no diagnosis pointer: point at least one diagnosis"})
		return
	case len(ptrs) > 4:
		r.addf(IDDxPointer, Reject, n, "diagnosis_pointers", "line has %d diagnosis pointers: at most 4", len(ptrs))
	}
	for k, p := range ptrs {
		if p < 1 || p > nd || p > 12 {
			r.addf(IDDxPointer, Reject, n, "diagnosis_pointers", "diagnosis pointer %d is %d but the claim has %d diagnoses", k+1, p, nd)
			return
		}
	}
}

func (r *run) modifiers(l *claim.Line, n int) {
	mods := l.Modifiers
	if len(mods) > 4 {
		r.addf(IDModTooMany, Reject, n, "modifiers", "%d modifiers: an 837P line carries at most 4", len(mods))
	}
	has59, hasX := false, false
	last, ordered := -1, true
	for _, m := range mods {
		if m == "59" {
			has59 = true
		} else if isXMod(m) {
			hasX = true
		}
		if k := modRank(m); k >= 0 {
			if k < last {
				ordered = false
			}
			last = max(last, k)
		}
	}
	if has59 && hasX {
		r.add(Edit{ID: IDMod59AndX, Severity: Reject, Line: n, Field: "modifiers", Message: "59 and an X modifier (XE/XS/XP/XU) on one line: use one of them (the X modifier when it describes the service)"})
	}
	if !ordered {
		r.addf(IDModOrder, Warn, n, "modifiers", "modifiers %s: the suggested order is CQ, 59/X, GP, KX", strings.Join(mods, " "))
	}
}

// ----------------------------------------------------- dates of service

// timed checks the timed codes of one date of service: minutes given, once
// per date, and units against minutes by the payer's rule.
func (r *run) timed(g []int) {
	rule := r.p.TimedUnits
	checkUnits := rule == TimedMedicare || rule == TimedPerCode
	if !checkUnits && !r.p.TimedCodeOncePerDay {
		return
	}
	aggs := r.w.aggs[:0]
	anyMissing := false
	for _, i := range g {
		l := &r.c.Lines[i]
		code, ok := r.s.codes.Lookup(l.Procedure)
		if !ok || !code.Timed {
			continue
		}
		k := -1
		for j := range aggs {
			if aggs[j].code == l.Procedure {
				k = j
				break
			}
		}
		if k < 0 {
			aggs = append(aggs, timedAgg{code: l.Procedure, first: i})
			k = len(aggs) - 1
		} else if r.p.TimedCodeOncePerDay {
			r.addf(IDTimedDuplicate, Reject, i+1, "procedure", "%s is already on line %d for this date of service: bill each timed code once per date with the total minutes and units", l.Procedure, aggs[k].first+1)
		}
		a := &aggs[k]
		a.billed += l.Units
		if l.Minutes <= 0 {
			a.missing, anyMissing = true, true
			if checkUnits {
				r.addf(IDTimedNoMinutes, Reject, i+1, "minutes", "%s is a timed code (per 15 minutes): give the one-on-one minutes so its %d unit(s) can be checked", l.Procedure, l.Units)
			}
		} else {
			a.minutes += l.Minutes
		}
	}
	r.w.aggs = aggs
	if !checkUnits || len(aggs) == 0 {
		return
	}
	total := 0
	if rule == TimedMedicare {
		if anyMissing {
			return // the date's total is unknown; TIMED-NO-MINUTES says why
		}
		allocateMedicare(aggs)
		acceptTies(aggs)
		for i := range aggs {
			total += aggs[i].minutes
		}
	} else {
		for i := range aggs {
			aggs[i].expected = TotalUnits(aggs[i].minutes)
		}
	}
	for i := range aggs {
		a := &aggs[i]
		if a.missing || a.billed == a.expected {
			continue
		}
		sev, id, what := Reject, IDUnitsOver, "more"
		if a.billed < a.expected {
			sev, id, what = Warn, IDUnitsUnder, "fewer"
		}
		if rule == TimedMedicare {
			r.addf(id, sev, a.first+1, "units", "%s billed with %d unit(s), %s than the 8-minute rule supports: %d (%d of %d timed minutes on this date of service, %d unit(s) in all)",
				a.code, a.billed, what, a.expected, a.minutes, total, TotalUnits(total))
		} else {
			r.addf(id, sev, a.first+1, "units", "%s billed with %d unit(s), %s than its %d minutes support: %d (the payer rounds each code separately)",
				a.code, a.billed, what, a.minutes, a.expected)
		}
	}
}

// acceptTies lets the billed allocation stand when it differs from the
// computed one only by giving a remainder unit to another code with the
// same leftover minutes: CMS lets the provider pick either in a tie.
func acceptTies(a []timedAgg) {
	for i := range a {
		x := &a[i]
		if x.extra || x.billed != x.expected+1 || x.minutes%15 == 0 {
			continue
		}
		for j := range a {
			y := &a[j]
			if y.extra && y.billed == y.expected-1 && y.minutes%15 == x.minutes%15 {
				x.expected++
				x.extra = true
				y.expected--
				y.extra = false
				break
			}
		}
	}
}

// untimed checks that untimed codes have at most 1 unit per date.
func (r *run) untimed(g []int) {
	for gi, i := range g {
		l := &r.c.Lines[i]
		code, ok := r.s.codes.Lookup(l.Procedure)
		if !ok || code.Timed || l.Units <= 0 {
			continue
		}
		units := l.Units
		for _, k := range g[:gi] {
			if r.c.Lines[k].Procedure == l.Procedure {
				units += r.c.Lines[k].Units
			}
		}
		if units > 1 {
			r.addf(IDUntimedUnits, code.MultiUnit, i+1, "units", "%s is untimed (1 unit per session): %d unit(s) on this date of service", l.Procedure, units)
		}
	}
}

// ncci checks the NCCI procedure-to-procedure pairs among the lines of one
// date of service d.
func (r *run) ncci(g []int, d claim.Date) {
	ls := r.c.Lines
	for _, j := range g {
		l2 := &ls[j]
		if !r.s.ncci.isColumn2(l2.Procedure) {
			continue
		}
	pairs:
		for gi, i := range g {
			if i == j || ls[i].Procedure == l2.Procedure {
				continue
			}
			for _, k := range g[:gi] {
				if k != j && ls[k].Procedure == ls[i].Procedure {
					continue pairs // already reported against this column-1 code
				}
			}
			p, ok := r.s.ncci.Pair(ls[i].Procedure, l2.Procedure, d)
			if !ok {
				continue
			}
			if p.ModifierIndicator == 0 {
				r.addf(IDNCCINoBypass, Reject, j+1, "procedure", "%s is not payable with %s (line %d) on the same date of service: NCCI pair with modifier indicator 0, no modifier bypasses it; remove the line",
					l2.Procedure, ls[i].Procedure, i+1)
				continue
			}
			if hasBypass(l2) {
				continue
			}
			hint := ""
			if hasBypass(&ls[i]) {
				hint = " (the modifier on the column-1 line does not count)"
			}
			r.addf(IDNCCIModifier, Reject, j+1, "modifiers", "%s is bundled into %s (line %d) on the same date of service (NCCI pair, %s is column 2): add 59 or XE/XS/XP/XU if it was a distinct service, else remove the line%s",
				l2.Procedure, ls[i].Procedure, i+1, l2.Procedure, hint)
		}
	}
}

// ------------------------------------------------------------------ KX

// kx checks the KX modifier against the year's therapy threshold: the
// patient's PT+SLP charges earlier in the year (Claim.TherapyYTD, for the
// claim's first year) plus this claim's PT lines in date order.
func (r *run) kx() {
	var (
		year    = -1
		th      Threshold
		known   bool
		running claim.Money
		start   claim.Money // running total when the year's first line was reached
		first   = true
	)
	for _, i := range r.w.order {
		l := &r.c.Lines[i]
		if l.ServiceDate.IsZero() {
			continue
		}
		if _, isPT := r.s.codes.Lookup(l.Procedure); !isPT {
			continue
		}
		if y := l.ServiceDate.Year; y != year {
			year = y
			running = 0
			if first {
				running = r.c.TherapyYTD
				first = false
			}
			start = running
			th, known = r.s.thresholds.Year(y)
			if !known {
				r.addf(IDKXNoThreshold, Warn, i+1, "modifiers", "no KX threshold is configured for %d: KX could not be checked (update therapy_thresholds.csv)", y)
			}
		}
		if !known {
			continue
		}
		before := running
		running += l.Charge
		unconfirmed := ""
		if !th.Confirmed {
			unconfirmed = " (amount UNCONFIRMED)"
		}
		hasKX := hasMod(l, "KX")
		switch {
		case running > th.KX && !hasKX:
			r.addf(IDKXMissing, Warn, i+1, "modifiers", "therapy charges this year reach %s with this line (%s before this claim), past the %d KX threshold of %s%s: add KX if the services are medically necessary and documented, or expect a denial",
				dollars(int64(running)), dollars(int64(start)), year, dollars(int64(th.KX)), unconfirmed)
		case running <= th.KX && hasKX:
			r.addf(IDKXEarly, Warn, i+1, "modifiers", "KX on a line that brings therapy charges this year to %s, not past the %d KX threshold of %s%s: KX is only needed past the threshold",
				dollars(int64(running)), year, dollars(int64(th.KX)), unconfirmed)
		}
		if before <= th.TargetedReview && running > th.TargetedReview {
			r.addf(IDTargetedReview, Warn, i+1, "charge", "therapy charges this year pass the targeted medical review threshold of %s with this line (%s): Medicare may review the claim; keep the documentation ready",
				dollars(int64(th.TargetedReview)), dollars(int64(running)))
		}
	}
}
