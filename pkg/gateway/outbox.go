package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
)

// fileInfoOf reads back where the claims of one of our own 837P files
// are (ISA06/08/13, GS06, ST02, BHT03, CLM01 and the payer id of NM1*PR),
// for a file the pipeline published before a crash kept its FileInfo
// from being handed on.
func fileInfoOf(path string) (*assemble.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := x12.NewReader(bufio.NewReaderSize(f, 64<<10))
	defer r.Release()
	fi := &assemble.FileInfo{}
	var set *assemble.SetInfo
	for {
		seg, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch seg.ID() {
		case "ISA":
			fi.Sender = strings.TrimSpace(seg.Text(6))
			fi.Receiver = strings.TrimSpace(seg.Text(8))
			fi.Interchange, _ = strconv.ParseInt(strings.TrimSpace(seg.Text(13)), 10, 64)
		case "GS":
			fi.Group, _ = strconv.ParseInt(seg.Text(6), 10, 64)
		case "ST":
			fi.Sets = append(fi.Sets, assemble.SetInfo{Control: seg.Text(2)})
			set = &fi.Sets[len(fi.Sets)-1]
		case "BHT":
			if set != nil {
				set.Reference = seg.Text(3)
			}
		case "NM1":
			if fi.PayerID == "" && seg.Text(1) == "PR" {
				fi.PayerID = seg.Text(9)
			}
		case "CLM":
			if set == nil {
				return nil, errors.New("CLM outside a transaction set")
			}
			set.ClaimIDs = append(set.ClaimIDs, seg.Text(1))
			charge, _ := claim.ParseMoney(seg.Text(2)) // written by us: valid
			set.Charges = append(set.Charges, charge)
			fi.Claims++
		}
	}
	if fi.Interchange == 0 || fi.Claims == 0 {
		return nil, fmt.Errorf("no interchange or no claims")
	}
	return fi, nil
}
