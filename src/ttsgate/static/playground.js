// ttsgate playground: streams /v1/audio/speech as SSE (pcm deltas) and plays it with Web Audio.
"use strict";

const RATE = 24000;
const $ = (id) => document.getElementById(id);
let session = null;

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

// With API keys on (TTSGATE_API_KEYS), the key typed in the page is sent as a Bearer token and kept
// in this browser's localStorage only.
function headers(extra = {}) {
  const key = $("apikey").value.trim();
  localStorage.setItem("ttsgate.apikey", key);
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

async function loadVoices() {
  $("apikey").value = localStorage.getItem("ttsgate.apikey") || "";
  const resp = await fetch("/v1/audio/voices", { headers: headers() });
  if (!resp.ok) throw new Error(await errorMessage(resp));
  const { voices } = await resp.json();
  const select = $("voice");
  select.replaceChildren();
  for (const v of voices) {
    const opt = document.createElement("option");
    opt.value = v.id;
    opt.textContent = `${v.id} — ${v.name} (${v.language})`;
    select.appendChild(opt);
  }
  select.value = voices.some((v) => v.id === "zh_female_baker") ? "zh_female_baker" : voices[0].id;
  document.body.dataset.voices = String(voices.length);
}

function body(format, streamFormat) {
  return JSON.stringify({
    model: "tts-1", input: $("text").value, voice: $("voice").value,
    speed: Number($("speed").value), response_format: format, stream_format: streamFormat,
  });
}

async function errorMessage(resp) {
  try { return (await resp.json()).error.message; } catch { return `HTTP ${resp.status}`; }
}

// Plays s16le PCM pieces back to back, scheduling each right after the previous one.
class Player {
  constructor() { this.ctx = new AudioContext({ sampleRate: RATE }); this.at = 0; this.samples = 0; }
  push(bytes) {
    const n = Math.floor(bytes.length / 2);
    if (!n) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    const buf = this.ctx.createBuffer(1, n, RATE);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < n; i++) ch[i] = view.getInt16(i * 2, true) / 32768;
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.ctx.destination);
    this.at = Math.max(this.at, this.ctx.currentTime + 0.05);
    src.start(this.at);
    this.at += buf.duration;
    this.samples += n;
  }
  stop() { this.ctx.close(); }
}

function b64bytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function addSegment(ev) {
  const li = document.createElement("li");
  li.innerHTML = `<span class="t">${ev.start.toFixed(2)}–${ev.end.toFixed(2)} s</span>`;
  li.appendChild(document.createTextNode(ev.text));
  $("segments").appendChild(li);
}

async function speak() {
  if (session) session.abort.abort();
  const abort = new AbortController();
  const player = new Player();
  session = { abort, player };
  $("segments").innerHTML = "";
  $("ttfa").textContent = "–";
  $("received").textContent = "–";
  $("speak").disabled = true;
  $("stop").disabled = false;
  document.body.dataset.state = "speaking";
  setStatus("synthesizing…");
  const started = performance.now();
  let carry = new Uint8Array(0);
  try {
    const resp = await fetch("/v1/audio/speech", {
      method: "POST", headers: headers({ "content-type": "application/json" }),
      body: body("pcm", "sse"), signal: abort.signal,
    });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let done = false;
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 2);
        if (!line.startsWith("data: ")) continue;
        const ev = JSON.parse(line.slice(6));
        if (ev.type === "speech.segment") addSegment(ev);
        else if (ev.type === "speech.audio.delta") {
          if ($("ttfa").textContent === "–") $("ttfa").textContent = `${Math.round(performance.now() - started)} ms`;
          const bytes = b64bytes(ev.audio);
          const all = new Uint8Array(carry.length + bytes.length);
          all.set(carry); all.set(bytes, carry.length);
          const even = all.length - (all.length % 2);
          player.push(all.subarray(0, even));
          carry = all.slice(even);
          $("received").textContent = `${(player.samples / RATE).toFixed(2)} s`;
        } else if (ev.type === "error") throw new Error(ev.error.message);
        else if (ev.type === "speech.audio.done") done = true;
      }
    }
    if (!done) throw new Error("the stream ended early");
    setStatus(`done: ${(player.samples / RATE).toFixed(2)} s of audio`);
    document.body.dataset.state = "done";
    document.body.dataset.seconds = (player.samples / RATE).toFixed(3);
  } catch (err) {
    if (err.name !== "AbortError") {
      setStatus(`error: ${err.message}`, true);
      document.body.dataset.state = "error";
    }
  } finally {
    $("speak").disabled = false;
    $("stop").disabled = true;
  }
}

async function download() {
  const format = $("format").value;
  setStatus(`encoding ${format}…`);
  const resp = await fetch("/v1/audio/speech", {
    method: "POST", headers: headers({ "content-type": "application/json" }), body: body(format, "audio"),
  });
  if (!resp.ok) { setStatus(`error: ${await errorMessage(resp)}`, true); return; }
  const blob = await resp.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `ttsgate.${format}`;
  a.click();
  setStatus(`downloaded ${blob.size} bytes of ${format}`);
}

$("speak").addEventListener("click", speak);
$("stop").addEventListener("click", () => {
  if (session) { session.abort.abort(); session.player.stop(); setStatus("stopped"); }
});
$("download").addEventListener("click", download);
loadVoices().catch((err) => setStatus(`cannot list voices: ${err.message}`, true));
