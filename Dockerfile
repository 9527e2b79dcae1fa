# claimgate: one static binary in a distroless image, run as non-root.
#
#   docker build -t claimgate .
#   docker run --rm -v claimgate-data:/data claimgate serve --data /data --listen none ...
#
# Build stage: the Go toolchain go.mod names; modules first so a source
# change does not download them again.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary with no libc; -trimpath: no build paths in it.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/claimgate ./cmd/claimgate \
 && mkdir -p /out/data

# Run stage: distroless static (no shell, no package manager), user
# nonroot (65532). /data is the data directory (JetStream store when
# embedded, inbox/, SFTP ledger and downloads), owned by that user so a
# fresh named volume inherits it.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/claimgate /claimgate
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
# 8080: HTTP API (--http); 9091: ops listener (--ops-http: /healthz,
# /readyz, /metrics); 4222: the embedded NATS server (--listen); 2022: payer-sim.
EXPOSE 8080 9091 4222 2022
ENTRYPOINT ["/claimgate"]
CMD ["serve", "--data", "/data", "--listen", "0.0.0.0:4222", "--http", "0.0.0.0:8080", "--ops-http", "0.0.0.0:9091"]
