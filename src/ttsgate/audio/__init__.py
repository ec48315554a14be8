"""Audio values and streaming encoders."""

from ttsgate.audio.chunk import OUTPUT_SAMPLE_RATE, AudioChunk, to_int16

__all__ = ["OUTPUT_SAMPLE_RATE", "AudioChunk", "to_int16"]
