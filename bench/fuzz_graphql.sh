#!/bin/sh
# A longer fuzzing run of the GraphQL API and the REST endpoints than CI's (25 per operation):
#   bench/fuzz_graphql.sh          # 500 per operation, a few minutes
#   bench/fuzz_graphql.sh 2000
set -e
cd "$(dirname "$0")/.."
BATON_FUZZ_RANDOM=1 BATON_FUZZ_EXAMPLES="${1:-500}" .venv/bin/pytest -q tests/test_fuzz.py
