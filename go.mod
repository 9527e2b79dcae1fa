module github.com/claimgate/claimgate

go 1.26.8

require (
	github.com/moov-io/x12 v0.1.0
	github.com/pkg/sftp v1.13.12
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
)

require github.com/kr/fs v0.1.0 // indirect
