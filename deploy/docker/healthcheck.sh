#!/bin/bash
# anb-healthcheck [PATH]: exits 0 when the local `anb` answers GET PATH (default /health) with
# 200. The slim image has no curl: bash's /dev/tcp speaks HTTP/1.1 to the port of
# ANB_HTTP_ADDR (default 8080). The image's HEALTHCHECK runs it; compose and Kubernetes may too.
set -euo pipefail
path=${1:-/health}
addr=${ANB_HTTP_ADDR:-0.0.0.0:8080}
port=${addr##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 5 _ status _ <&3
[ "$status" = 200 ]
