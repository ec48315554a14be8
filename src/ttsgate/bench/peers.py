"""The other servers ``ttsgate bench stream`` measures, read as a player would read them.

* piper's http server (``python -m piper.http_server -m MODEL``, piper-tts 1.8): ``POST /synthesize``
  ``{"text"}`` answers one WAV (with a ``Content-Length``: the whole utterance is synthesized before
  the first byte leaves); ttsgate's ``GET /tts`` streams a WAV. Either way ``WavCounter`` reads the
  RIFF header for the sample rate, sample width and channels, and every byte after the ``data``
  chunk's header is audio, counted as it arrives.
* a Wyoming TTS server (Home Assistant's ``wyoming-piper``), spoken to with the ``wyoming`` client
  library: one ``synthesize`` event, then ``audio-start``, ``audio-chunk``… ``audio-stop``; each chunk
  carries its rate, width and channels. wyoming-piper (2.x) splits the text into sentences and sends
  each sentence's audio as soon as it is synthesized.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ttsgate.bench.load import Target
from ttsgate.bench.stream import Recorder, StreamError, stream_counted


class WavCounter:
    """Seconds of audio in each piece of a WAV body, fed in arrival order."""

    def __init__(self) -> None:
        self._head = b""
        self.rate: int | None = None
        self._bytes_per_s: int | None = None
        self._in_data = False

    def feed(self, chunk: bytes) -> float:
        if self._in_data:
            return len(chunk) / self._bytes_per_s if self._bytes_per_s else 0.0
        self._head += chunk
        head = self._head
        if len(head) < 12:
            return 0.0
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise StreamError("corrupt", "not a WAV body")
        pos = 12
        while pos + 8 <= len(head):
            kind, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
            if kind == b"data":
                if not self._bytes_per_s:
                    raise StreamError("corrupt", "WAV data before its fmt chunk")
                self._in_data = True
                self._head = b""
                return (len(head) - pos - 8) / self._bytes_per_s  # audio that came with the header
            if pos + 8 + size > len(head):
                return 0.0  # the rest of this chunk has not arrived yet
            if kind == b"fmt ":
                channels = int.from_bytes(head[pos + 10 : pos + 12], "little")
                self.rate = int.from_bytes(head[pos + 12 : pos + 16], "little")
                width = int.from_bytes(head[pos + 22 : pos + 24], "little") // 8
                self._bytes_per_s = self.rate * channels * width
            pos += 8 + size + (size & 1)
        return 0.0


async def stream_wav(client: httpx.AsyncClient, target: Target, text: str, rec: Recorder) -> None:
    """piper's ``POST /synthesize`` or ttsgate's ``GET /tts`` (WAV)."""
    await stream_counted(client, target, text, rec, WavCounter())


async def stream_wyoming(target: Target, text: str, rec: Recorder) -> None:
    """One ``synthesize`` event (voice ``target.voice``, or the server's default when empty) over a
    new connection; audio until ``audio-stop``. An ``error`` event fails the stream (``server_error``)."""
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.error import Error
    from wyoming.tts import Synthesize, SynthesizeVoice

    u = urlsplit(target.url)
    client = AsyncTcpClient(u.hostname or "127.0.0.1", u.port or 10200)
    await client.connect()
    try:
        voice = SynthesizeVoice(name=target.voice) if target.voice else None
        await client.write_event(Synthesize(text=text, voice=voice).event())
        while True:
            event = await client.read_event()
            if event is None:
                raise StreamError("aborted", "connection closed before audio-stop")
            if AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                if not rec.rec.status:
                    rec.response(200)
                rec.rec.sample_rate = chunk.rate
                rec.audio(chunk.seconds)
            elif AudioStart.is_type(event.type):
                rec.response(200)
            elif AudioStop.is_type(event.type):
                return
            elif Error.is_type(event.type):
                raise StreamError("server_error", Error.from_event(event).text)
    finally:
        await client.disconnect()
