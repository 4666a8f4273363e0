# syntax=docker/dockerfile:1
# Build: CGO is needed for SQLite (github.com/mattn/go-sqlite3).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/podium ./cmd/podium

# Run: a small Debian with CA certificates and time zone data, as a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data podium \
 && mkdir -p /data && chown podium /data
COPY --from=build /out/podium /usr/local/bin/podium
USER podium
WORKDIR /data
VOLUME ["/data"]
ENV PODIUM_ADDR=:3000 PODIUM_DB=/data/podium.db
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["podium"]
CMD ["serve"]
