// Package x837p reads and writes the 837 professional claim, 005010X222A1,
// as a typed model covering what physical-therapy claims need: submitter
// and receiver, billing provider and pay-to address, subscriber and payer,
// patient, claim information with diagnoses, referring and rendering
// providers, service facility, other payers (coordination of benefits) and
// service lines.
//
// The model mirrors the wire: codes are kept as the strings the TR3 uses,
// dates as CCYYMMDD strings, amounts as int64 cents and quantities as
// thousandths, so a file read from a practice-management system can be
// written again without loss for everything the model covers. What the
// Reader cannot map it reports as findings instead of dropping silently.
//
// The package depends only on the X12 core (edi/x12); mapping from
// claimgate's domain model lives in pkg/assemble.
package x837p

// wrVersion is the implementation guide identifier written in GS08 and
// ST03 (the exported Version, the same string, is the validator's).
const wrVersion = "005010X222A1"

// TransactionID is ST01 of an 837.
const TransactionID = "837"

// Name is an NM1 name.
type Name struct {
	Entity string // NM102: 1 person, 2 non-person entity
	Last   string // NM103: last name or organisation name
	First  string // NM104
	Middle string // NM105
	Suffix string // NM107
}

// Address is an N3/N4 postal address. The zero Address means "none" and
// writes no N3/N4.
type Address struct {
	Line1   string // N301
	Line2   string // N302
	City    string // N401
	State   string // N402
	Zip     string // N403
	Country string // N404, only outside the United States
}

// IsZero reports whether a is empty.
func (a Address) IsZero() bool { return a == Address{} }

// Contact is a PER*IC contact: a name and up to three communication
// numbers (PER03..PER08). Ext, when set, follows the phone number.
type Contact struct {
	Name  string // PER02
	Phone string // TE
	Ext   string // EX
	Email string // EM
	Fax   string // FX
}

// IsZero reports whether c is empty.
func (c Contact) IsZero() bool { return c == Contact{} }

// Submitter is loop 1000A: NM1*41 and PER.
type Submitter struct {
	Name    Name
	ID      string // NM109, with NM108 46 (electronic transmitter id)
	Contact Contact
}

// Receiver is loop 1000B: NM1*40.
type Receiver struct {
	Name string // NM103
	ID   string // NM109, with NM108 46
}

// BillingProvider is loop 2000A with 2010AA and the optional 2010AB pay-to
// address. It is comparable: the writer starts a new 2000A only when the
// billing provider of consecutive claims differs.
type BillingProvider struct {
	Taxonomy string // PRV03 of PRV*BI*PXC
	Name     Name   // 2010AA NM1*85
	NPI      string // NM109, with NM108 XX
	Address  Address
	// TaxIDQualifier is REF01: EI (employer id) or SY (social security
	// number). Empty writes EI.
	TaxIDQualifier string
	TaxID          string
	Contact        Contact // 2010AA PER*IC, when the PM system sends one
	// PayTo is the 2010AB pay-to address (NM1*87), written only when it
	// is not zero; PayToEntity is its NM102 (empty writes 2).
	PayToEntity string
	PayTo       Address
}

// Payer is loop 2010BB (or 2330B): NM1*PR and its address.
type Payer struct {
	Name string
	// IDQualifier is NM108: PI payer id or XV CMS plan id. Empty writes PI.
	IDQualifier string
	ID          string
	Address     Address
}

// Subscriber is loop 2000B (HL 22, SBR) with 2010BA (NM1*IL, N3, N4, DMG)
// and 2010BB, the payer the claims are sent to. It is comparable.
type Subscriber struct {
	Sequence      string // SBR01: P, S, T ...
	Relationship  string // SBR02: 18 when the subscriber is the patient
	GroupNumber   string // SBR03
	GroupName     string // SBR04
	InsuranceType string // SBR05 (Medicare secondary type)
	FilingCode    string // SBR09: MB, MC, CI, BL ...
	Name          Name
	// IDQualifier is NM108: MI member id or II unique health id. Empty
	// writes MI.
	IDQualifier string
	ID          string // NM109
	Address     Address
	Birth       string // DMG02, CCYYMMDD
	Gender      string // DMG03: M, F, U
	Payer       Payer
}

// Patient is loop 2000C (HL 23, PAT) with 2010CA (NM1*QC, N3, N4, DMG),
// used when the patient is not the subscriber. It is comparable.
type Patient struct {
	Relationship string // PAT01: 01 spouse, 19 child, 20 employee, ...
	Name         Name
	Address      Address
	Birth        string // DMG02, CCYYMMDD
	Gender       string // DMG03
}

// Provider is a referring (2310A, NM1*DN) or rendering (2310B, NM1*82)
// provider.
type Provider struct {
	Name Name
	NPI  string // NM109, with NM108 XX
	// Taxonomy is PRV03 of PRV*PE*PXC, rendering provider only.
	Taxonomy string
	// SecondaryQualifier and SecondaryID are one REF (e.g. G2 provider
	// commercial number).
	SecondaryQualifier string
	SecondaryID        string
}

// Facility is loop 2310C, the service facility location (NM1*77).
type Facility struct {
	Name    string
	NPI     string // NM109, with NM108 XX
	Address Address
}

// Diagnosis is one HI composite.
type Diagnosis struct {
	// Qualifier is ABK (ICD-10-CM principal), ABF (ICD-10-CM other), or BK
	// and BF for ICD-9-CM in old files. Empty writes ABK for the first
	// diagnosis and ABF for the others.
	Qualifier string
	Code      string // without the decimal point
}

// Adjustment is one CAS adjustment (group code, reason, amount, quantity).
// Consecutive adjustments with the same group code are written in one CAS
// segment of up to six triplets.
type Adjustment struct {
	Group    string // CO, OA, PI, PR
	Reason   string // CARC
	Amount   int64  // cents
	Quantity Quantity
}

// OtherSubscriber is loop 2320 (another payer's coverage, SBR, CAS, AMT,
// OI) with 2330A (its subscriber) and 2330B (its payer).
type OtherSubscriber struct {
	Sequence      string // SBR01
	Relationship  string // SBR02
	GroupNumber   string // SBR03
	GroupName     string // SBR04
	InsuranceType string // SBR05
	FilingCode    string // SBR09

	Adjustments []Adjustment // claim-level CAS
	// Paid is AMT*D, the amount the other payer paid, written when
	// HasPaid is set (a payer may have paid zero).
	Paid    int64
	HasPaid bool
	// Remaining is AMT*EAF, the remaining patient liability.
	Remaining    int64
	HasRemaining bool

	BenefitsAssigned       string // OI03: Y, N, W
	PatientSignatureSource string // OI04
	ReleaseOfInfo          string // OI06: I, Y

	Name        Name   // 2330A NM1*IL
	IDQualifier string // NM108, empty writes MI
	ID          string
	Address     Address

	Payer Payer // 2330B NM1*PR
	// AdjudicationDate is DTP*573 in 2330B, CCYYMMDD.
	AdjudicationDate string
}

// Line is one service line, loop 2400.
type Line struct {
	// Qualifier is SV101-1, the product/service id qualifier; empty
	// writes HC (HCPCS/CPT).
	Qualifier   string
	Procedure   string    // SV101-2
	Modifiers   [4]string // SV101-3..6
	Description string    // SV101-7
	Charge      int64     // SV102, cents
	// Unit is SV103: UN units or MJ minutes; empty writes UN.
	Unit           string
	Units          Quantity // SV104
	PlaceOfService string   // SV105, when it differs from CLM05-1
	// Pointers are SV107, 1-based indexes into the claim's diagnoses;
	// 0 ends the list.
	Pointers  [4]uint8
	Emergency string // SV109: Y
	// ServiceDate is DTP*472 (CCYYMMDD); ServiceDateEnd, when set, makes
	// it an RD8 range.
	ServiceDate    string
	ServiceDateEnd string
	PriorAuth      string // REF*G1
	ControlNumber  string // REF*6R line item control number
	Referral       string // REF*9F
	// NoteCode is NTE01 (ADD or DCP; empty writes ADD) and Note NTE02.
	NoteCode string
	Note     string
}

// Claim is loop 2300 and its sub-loops.
type Claim struct {
	ID             string // CLM01 patient control number
	Charge         int64  // CLM02 total charge, cents
	PlaceOfService string // CLM05-1
	// Frequency is CLM05-3: 1 original, 7 replacement, 8 void.
	Frequency              string
	ProviderSignature      string // CLM06: Y, N
	Assignment             string // CLM07: A, B, C
	BenefitsAssigned       string // CLM08: Y, N, W
	ReleaseOfInfo          string // CLM09: I, Y
	PatientSignatureSource string // CLM10: P
	// RelatedCauses are CLM11-1 and CLM11-2 (AA auto accident, EM
	// employment, OA other accident); AccidentState and AccidentCountry
	// are CLM11-4 and CLM11-5.
	RelatedCauses   [2]string
	AccidentState   string
	AccidentCountry string
	DelayReason     string // CLM20

	OnsetDate            string // DTP*431
	InitialTreatmentDate string // DTP*454
	LastSeenDate         string // DTP*304
	AccidentDate         string // DTP*439

	Referral           string // REF*9F
	PriorAuth          string // REF*G1
	OriginalRef        string // REF*F8 payer claim control number
	ClearinghouseTrace string // REF*D9
	MedicalRecord      string // REF*EA

	// NoteCode is NTE01 (empty writes ADD) and Note NTE02.
	NoteCode string
	Note     string

	Diagnoses []Diagnosis // HI, at most 12

	Referring *Provider // 2310A
	Rendering *Provider // 2310B
	Facility  *Facility // 2310C

	OtherSubscribers []OtherSubscriber // 2320/2330A/2330B, at most 10
	Lines            []Line            // 2400, 1 to 50

	// enc is the claim's 2300 loop as Scratch.TryKeep encoded it, which
	// the writer copies instead of encoding the claim again.
	enc *encodedClaim
	// compact: Compact dropped every field but ID and Charge; only enc
	// can be written.
	compact bool
}

// Compact drops, from a claim whose 2300 loop Scratch.TryKeep kept, every
// field but ID and Charge (its lines, diagnoses, providers and texts): a
// writer copies the kept loop and reads nothing else, so a claim waiting
// for its file holds little more than its encoding. It reports whether it
// did (not without a kept encoding). A compacted claim can only be
// written with the delimiters and newline setting it was encoded with;
// any other writer, and Scratch.TryKeep, refuse it.
func (c *Claim) Compact() bool {
	if c.enc == nil {
		return false
	}
	*c = Claim{ID: c.ID, Charge: c.Charge, enc: c.enc, compact: true}
	return true
}

// Item is one claim with the hierarchy it sits in. The writer groups
// consecutive items with equal billing providers under one 2000A, equal
// subscribers under one 2000B and equal patients under one 2000C; the
// Reader yields items whose context pointers are shared by the claims of
// one hierarchical level.
type Item struct {
	Billing    *BillingProvider
	Subscriber *Subscriber
	// Patient is nil when the subscriber is the patient.
	Patient *Patient
	Claim   *Claim
}

// Header is what one transaction set says besides its claims: ST02, the
// BHT segment, the submitter and the receiver.
type Header struct {
	Control string // ST02, 4 to 9 characters
	// Purpose is BHT02: 00 original, 18 reissue. Empty writes 00.
	Purpose   string
	Reference string // BHT03, unique per set
	Date      string // BHT04, CCYYMMDD
	Time      string // BHT05, HHMM or HHMMSS
	// ClaimType is BHT06: CH chargeable, RP reporting, 31 subrogation.
	// Empty writes CH.
	ClaimType string
	Submitter Submitter
	Receiver  Receiver
}

// Transaction is one 837P transaction set.
type Transaction struct {
	Header Header
	Items  []Item
}

// Quantity is a decimal quantity (SV104 units, CAS quantities) in
// thousandths: the TR3 allows at most three decimal places, so an integer
// keeps it exact. Units(4) is four units.
type Quantity int64

// Units returns n whole units as a Quantity.
func Units(n int64) Quantity { return Quantity(n * 1000) }

// AppendAmount appends cents as an X12 decimal amount without trailing
// zeros ("100", "100.5", "-0.25"), allocating nothing when dst has room.
func AppendAmount(dst []byte, cents int64) []byte {
	return numAppend(dst, cents, 100, 2)
}

// AppendQuantity appends q as an X12 decimal without trailing zeros
// ("4", "1.5", "0.125").
func AppendQuantity(dst []byte, q Quantity) []byte {
	return numAppend(dst, int64(q), 1000, 3)
}

// numAppend formats v/scale with up to places decimals, dropping
// trailing zeros.
func numAppend(dst []byte, v, scale int64, places int) []byte {
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = uint64(-v) // two's complement: correct for math.MinInt64 too
	}
	whole, frac := u/uint64(scale), u%uint64(scale)
	dst = numAppendUint(dst, whole)
	if frac == 0 {
		return dst
	}
	var digits [3]byte
	for i := places - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := places
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

func numAppendUint(dst []byte, u uint64) []byte {
	var b [20]byte
	i := len(b)
	for u >= 10 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	b[i] = byte('0' + u)
	return append(dst, b[i:]...)
}

// ParseAmount parses an X12 decimal amount into cents. More than two
// decimal places are accepted only when the extra digits are zeros.
func ParseAmount(b []byte) (int64, bool) {
	v, ok := numParse(b, 2)
	return v, ok
}

// ParseQuantity parses an X12 decimal quantity with at most three
// significant decimal places.
func ParseQuantity(b []byte) (Quantity, bool) {
	v, ok := numParse(b, 3)
	return Quantity(v), ok
}

// numParse parses an optionally signed decimal into an integer scaled by
// 10^places. It refuses empty input, stray characters, non-zero digits
// beyond places and values beyond 15 integer digits.
func numParse(b []byte, places int) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	var v int64
	digits, intDigits, dec := 0, 0, -1
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dec < 0 {
				intDigits++
				if intDigits > 15 {
					return 0, false
				}
				v = v*10 + int64(c-'0')
			} else {
				dec++
				if dec <= places {
					v = v*10 + int64(c-'0')
				} else if c != '0' {
					return 0, false
				}
			}
		case c == '.' && dec < 0:
			dec = 0
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	if dec < 0 {
		dec = 0
	}
	for ; dec < places; dec++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, true
}
