#!/usr/bin/env bash
set -euo pipefail
echo "summarise: $(wc -c < extracted.json) bytes extracted for run ${ORCHEST_SESSION_UUID}"
