module github.com/claimgate/claimgate

go 1.26.8

require github.com/moov-io/x12 v0.1.0
