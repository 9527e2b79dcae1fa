module github.com/claimgate/claimgate

go 1.26.8
